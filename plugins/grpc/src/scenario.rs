//! `-o scenario=FILE`: the SDK's scenario TOML with gRPC steps. The SDK owns
//! sessions, data sources, weights, names, SLOs, captures; a step's own
//! fields are `call`, `data` (JSON text, or the request as a TOML table)
//! or `data_file`, and `metadata` (a table of templated values):
//!
//! ```toml
//! sessions = 4
//! reauth_status = ["UNAUTHENTICATED"]
//!
//! [[setup]]
//! call = "shop.v1.Auth/Login"
//! data = { user = "u{{session}}", password = "pw" }
//! capture = { token = "json:/token" }
//!
//! [[request]]
//! name = "item"
//! call = "shop.v1.Items/GetItem"
//! data = '{"id": {{rand_int 1 1000}}}'
//! metadata = { authorization = "Bearer {{token}}" }
//! slo_p99 = "50ms"
//! ```

use std::collections::BTreeMap;

use loadgen_plugin_api::sdk::traffic::{ScenarioFile, Step, StepCompiler, StepFields, Traffic};
use prost_reflect::DescriptorPool;
use serde::Deserialize;
use tonic::Code;

use crate::call::{parse_code, CallSpec, GrpcCall};
use crate::config;

/// A step's gRPC fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcStep {
    call: String,
    /// JSON text (templated), or the request written as a TOML table.
    #[serde(default)]
    data: Option<serde_json::Value>,
    /// The request JSON from this file (relative to the scenario).
    #[serde(default)]
    data_file: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

impl StepFields for GrpcStep {
    /// The method's name: `GetItem`.
    fn default_name(&self) -> String {
        let call = self.call.trim();
        call.rsplit(['/', '.']).next().unwrap_or(call).to_string()
    }
}

/// The services a scenario's steps call (for reflection), each once.
pub fn services(file: &ScenarioFile<GrpcStep>) -> Result<Vec<String>, String> {
    let mut services: Vec<String> = Vec::new();
    for step in file.setup.iter().chain(&file.requests) {
        let call = config::call(&step.fields.call)
            .map_err(|e| format!("scenario {}: {} {e}", file.shown, step.label()))?;
        if !services.contains(&call.service) {
            services.push(call.service);
        }
    }
    Ok(services)
}

/// `reauth_status` as gRPC codes.
pub fn reauth_codes(file: &ScenarioFile<GrpcStep>) -> Result<Vec<Code>, String> {
    file.reauth_status
        .iter()
        .map(|raw| {
            parse_code(raw).ok_or_else(|| {
                format!(
                    "scenario {}: reauth_status '{raw}' is not a gRPC status (UNAUTHENTICATED, 16 …)",
                    file.shown
                )
            })
        })
        .collect()
}

/// Every step compiled against `pool`.
pub fn compile(
    file: ScenarioFile<GrpcStep>,
    pool: &DescriptorPool,
) -> Result<Traffic<GrpcCall>, String> {
    file.compile(|step, c| compile_step(step, c, pool))
}

fn compile_step(
    step: &Step<GrpcStep>,
    c: &mut StepCompiler<'_>,
    pool: &DescriptorPool,
) -> Result<GrpcCall, String> {
    let fields = &step.fields;
    let call = config::call(&fields.call).map_err(|e| c.error(&e))?;
    let text = match (&fields.data, &fields.data_file) {
        (Some(_), Some(_)) => return Err(c.error("has both data and data_file")),
        (Some(serde_json::Value::String(text)), None) => text.clone(),
        (Some(value), None) => value.to_string(),
        (None, Some(file)) => std::fs::read_to_string(c.resolve(file))
            .map_err(|e| c.error(&format!("data_file '{file}': cannot read it: {e}")))?,
        (None, None) => "{}".to_string(),
    };
    let data = c.template("data", &text)?;
    let mut metadata = Vec::with_capacity(fields.metadata.len());
    for (key, value) in &fields.metadata {
        let key = config::metadata_key(key).map_err(|e| c.error(&e))?;
        let value = c.template(&format!("metadata '{key}'"), value)?;
        metadata.push((key, value));
    }
    let expect = match &step.expect_status {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(|s| {
                parse_code(s).ok_or_else(|| {
                    c.error(&format!(
                        "expect_status '{}' is not a gRPC status",
                        s.trim()
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    GrpcCall::compile(
        pool,
        CallSpec {
            call: &call,
            data,
            metadata,
            expect,
        },
    )
    .map_err(|e| c.error(&e))
}
