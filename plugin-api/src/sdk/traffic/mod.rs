//! Realistic traffic, shared by every request/reply plugin: a scenario file
//! ([`ScenarioFile`]) of setup steps and a weighted mix of requests, data
//! files ([`DataSource`]) shared read-only by all worker threads, templates
//! ([`Template`]) compiled once, sessions whose setup captures variables
//! ([`Capture`]), and the run-time plan ([`Traffic`]).
//!
//! A plugin supplies only its protocol: a serde type for a step's fields
//! ([`StepFields`]), how it compiles them (through [`StepCompiler::template`])
//! and how it sends one ([`Caller`]).
//!
//! ```
//! use std::path::Path;
//! use loadgen_plugin_api::sdk::traffic::*;
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Fields { url: String }
//!
//! impl StepFields for Fields {
//!     fn default_name(&self) -> String { format!("GET {}", self.url) }
//! }
//!
//! let text = r#"
//!     [[request]]
//!     name = "item"
//!     weight = 9
//!     url = "/items/{{rand_int 1 100}}"
//!     [[request]]
//!     url = "/orders/{{seq}}"
//! "#;
//! let traffic = ScenarioFile::<Fields>::parse(text, "s.toml", Path::new("."), 42, &[])
//!     .unwrap()
//!     .compile(|step, c| c.template("url", &step.fields.url))
//!     .unwrap();
//! let op = traffic.plan(7);                   // request by weight, session round-robin
//! let vars = traffic.vars(op.session);
//! let url = traffic.requests()[op.request].call.render(&traffic.context(&op, &vars));
//! assert!(url.starts_with("/items/") || url == "/orders/7");
//! assert_eq!(traffic.series()[1].name(), "GET /orders/{{seq}}");
//! ```

mod capture;
mod data;
mod hash;
mod plan;
mod scenario;
mod template;

pub use capture::{Capture, CaptureFrom, Reply};
pub use data::{DataSource, Pick};
pub use plan::{Caller, Compiled, OpPlan, Traffic};
pub use scenario::{ScenarioFile, Step, StepCompiler, StepFields, StepKind};
pub use template::{OpContext, Scope, Template, TemplateError, Vars};
