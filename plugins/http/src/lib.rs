//! `http`: drive any HTTP/1.1 or HTTP/2 service and find its capacity.
//!
//! Each op is one request: the same one every op (`-o url=`, built once at
//! start as a [`RequestTemplate`]), or one of a scenario's weighted requests
//! (`-o scenario=FILE`, `-o targets=FILE`: templates rendered per op, sent on
//! behalf of a session; the SDK's `traffic` module owns the file, the data,
//! the sessions and the mix). Requests go over HTTP/1.1 keep-alive
//! connections of our own (at most `connections`, one request each at a
//! time; plain http:// through loadgen's own client [`h1`], https through
//! hyper's) or HTTP/2 (hyper-util's client, multiplexed). Latency counts from
//! the op's intended time; an op waiting for a free HTTP/1.1 connection is
//! waiting in the client and that wait is part of its latency and of its
//! service time.
//!
//! # Layout
//! - `config.rs`: options, checked once (bad input is one line, exit 2).
//! - `status.rs`: `expect_status` and the failure reasons.
//! - `client.rs`: the transport (loadgen's HTTP/1.1 client, hyper's HTTP/1.1
//!   pool or HTTP/2 clients), rustls (`insecure=true`), the request at start.
//! - `h1/`: loadgen's own HTTP/1.1 client (plain http://, `client=native`):
//!   requests as bytes, answers parsed with httparse by the op's future.
//! - `pool.rs`: hyper's HTTP/1.1 connections (https, `client=hyper`): a
//!   permit each, idle ones reused.
//! - `template.rs`: the `url=` request built once.
//! - `scenario.rs`: a scenario step's HTTP fields and their compiled request.
//! - `targets.rs`: Vegeta targets files.
//! - `exchange.rs`: send one request, judge or keep its answer.
//! - here: the plugin, and its [`Service`] for the SDK's fire helper
//!   (saturation, `timeout`, loss deadline, one task per batch).

mod client;
mod config;
mod exchange;
pub mod h1;
mod pool;
mod scenario;
mod slots;
mod status;
mod targets;
mod template;
mod tls;

use std::path::Path;
use std::sync::Arc;

use loadgen_plugin_api::sdk::traffic::{OpPlan, ScenarioFile, Step, StepKind, Traffic};
use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin};

use client::Transport;
use config::{HttpConfig, HttpOptions, Source};
use exchange::Exchange;
use scenario::{Base, Calls, HttpStep, SetupCaller};
use status::{ExpectStatus, Failure};
use template::RequestTemplate;

/// The series of `url=`; a scenario's requests are series of their own.
const HTTP: Series = Series::new(0, "http");

counter_set! {
    /// What the plugin saw: requests, and failed ops by reason (each op fails
    /// once, on its series). Timeouts and losses are the table's counters.
    pub struct Tally {
        /// Requests handed to a connection.
        requests,
        /// Could not connect (refused, reset, TLS handshake failed).
        connect,
        /// Answers with a 4xx status not in expect_status.
        status_4xx,
        /// Answers with a 5xx status not in expect_status.
        status_5xx,
        /// Unexpected statuses outside 4xx/5xx (1xx, 3xx, an unlisted 2xx).
        status_other,
        /// Response bodies that could not be read.
        body,
        /// Other protocol errors mid-request (or a rendered URL/header HTTP does not allow).
        request,
        /// 429 or 503 answers carrying Retry-After: the server asked to back off.
        retry_after,
        /// Sessions that re-ran their setup after an answer in reauth_status.
        reauths,
    }
}

impl Tally {
    fn failure(&self, failure: Failure) -> &std::sync::atomic::AtomicU64 {
        match failure {
            Failure::Connect => &self.connect,
            Failure::Status4xx => &self.status_4xx,
            Failure::Status5xx => &self.status_5xx,
            Failure::StatusOther => &self.status_other,
            Failure::Body => &self.body,
            Failure::Request => &self.request,
        }
    }
}

/// Where each op's request comes from.
// One per run, never moved: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Mode {
    Single {
        template: RequestTemplate,
        expect: ExpectStatus,
    },
    Scenario {
        traffic: Arc<Traffic<Calls>>,
        setup: Arc<SetupCaller>,
        reauth: Vec<u16>,
    },
}

/// One op of the http plugin, for the SDK's fire helper.
pub struct HttpService {
    exchange: Arc<Exchange>,
    mode: Mode,
}

pub enum HttpOp {
    Single(u64),
    Planned(OpPlan),
}

impl Service for HttpService {
    type Op = HttpOp;

    fn prepare(&self, seq: u64) -> (Series, HttpOp) {
        match &self.mode {
            Mode::Single { .. } => (HTTP, HttpOp::Single(seq)),
            Mode::Scenario { traffic, .. } => {
                let plan = traffic.plan(seq);
                (
                    traffic.requests()[plan.request].series,
                    HttpOp::Planned(plan),
                )
            }
        }
    }

    async fn call(&self, op: HttpOp) -> Answer {
        let failure = match (&self.mode, op) {
            (Mode::Single { template, expect }, HttpOp::Single(seq)) => {
                let status = match (&self.exchange.transport, template.wire()) {
                    (Transport::Native(pool), Some(wire)) => {
                        self.exchange.status_of_wire(pool, wire).await
                    }
                    _ => self.exchange.status(template.request(), seq as usize).await,
                };
                match status {
                    Ok(status) => expect.check(status),
                    Err(failure) => Some(failure),
                }
            }
            (
                Mode::Scenario {
                    traffic,
                    setup,
                    reauth,
                },
                HttpOp::Planned(plan),
            ) => {
                let call = traffic.requests()[plan.request].call.pick(plan.seq);
                let status = match &self.exchange.transport {
                    Transport::Native(pool) => {
                        let vars = traffic.vars(plan.session);
                        let context = traffic.context(&plan, &vars);
                        Ok(self
                            .exchange
                            .status_rendered(pool, |bufs| call.render_h1(&context, bufs))
                            .await)
                    }
                    _ => {
                        let request = {
                            let vars = traffic.vars(plan.session);
                            call.request(&traffic.context(&plan, &vars))
                        };
                        match request {
                            Err(_) => Err(()),
                            Ok(request) => {
                                Ok(self.exchange.status(request, plan.seq as usize).await)
                            }
                        }
                    }
                };
                match status {
                    Err(()) => Some(Failure::Request),
                    Ok(status) => match status {
                        Ok(status) => {
                            if reauth.contains(&status.as_u16())
                                && traffic.reauth(plan.session, Arc::clone(setup))
                            {
                                bump(&self.exchange.tally.reauths);
                            }
                            call.expect.check(status)
                        }
                        Err(failure) => Some(failure),
                    },
                }
            }
            _ => unreachable!("ops are prepared by the same mode"),
        };
        failure.map_or(Answer::Ok, |f| Answer::Error(f.reason()))
    }

    fn answered(&self, answer: Answer) {
        if let Answer::Error(reason) = answer {
            if let Some(failure) = Failure::ALL.get(reason.index() as usize) {
                bump(self.exchange.tally.failure(*failure));
            }
        }
    }
}

pub struct Http {
    requests: Requests<HttpService>,
}

impl Plugin for Http {
    type Options = HttpOptions;

    /// The origin's `host:port` (the URL's, or the scenario's or targets
    /// file's origin); `None` when the options do not resolve to one.
    fn targets(options: &HttpOptions) -> Option<Vec<String>> {
        let mut config: HttpConfig = config::parse(options).ok()?;
        let origin = match &config.source {
            Source::Url => None,
            Source::Scenario(file) => Some(read_scenario(file, &config, 0).ok()?.1),
            Source::Targets { file, json } => Some(read_targets(file, *json, &config, 0).ok()?.1),
        };
        if let Some(origin) = origin {
            config.uri = config::url(&origin).ok()?;
        }
        let host = config.uri.host()?;
        let tls = config.uri.scheme_str() == Some("https");
        let port = config.uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Some(vec![format!("{host}:{port}")])
    }

    fn info() -> Info {
        Info::new(
            "http",
            env!("CARGO_PKG_VERSION"),
            "Any HTTP/1.1 or HTTP/2 service: one request per op (url=) or a weighted mix (scenario=, targets=), latency from the intended send time.",
        )
        .series(&[HTTP])
        .error_reasons(&Failure::reasons())
        .counters(Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("100,200,500,1k,2k,5k,10k")
    }

    async fn start(ctx: Context<HttpOptions>) -> Result<Self, String> {
        let mut config: HttpConfig = config::parse(&ctx.options)?;
        let scenario = match &config.source {
            Source::Url => None,
            Source::Scenario(file) => Some(read_scenario(file, &config, ctx.seed)?),
            Source::Targets { file, json } => Some(read_targets(file, *json, &config, ctx.seed)?),
        };
        if let Some((_, origin)) = &scenario {
            config.uri = config::url(origin)?;
        }
        let transport: Transport = client::build(&config)?;
        let exchange = Arc::new(Exchange {
            transport,
            tally: Tally::default(),
        });
        let mode = match scenario {
            None => {
                let template = RequestTemplate::new(&config);
                client::preflight(&exchange.transport, template.request(), &config).await?;
                Mode::Single {
                    template,
                    expect: config.expect.clone(),
                }
            }
            Some((traffic, _)) => {
                let setup = Arc::new(SetupCaller {
                    exchange: Arc::clone(&exchange),
                });
                // The setup proves the server is there; without one, the
                // first request of the mix does (its answer is not judged).
                if traffic.setup().is_empty() {
                    let plan = OpPlan {
                        seq: 0,
                        request: 0,
                        session: 0,
                    };
                    let vars = traffic.vars(0);
                    let request = traffic.requests()[0]
                        .call
                        .pick(0)
                        .request(&traffic.context(&plan, &vars))
                        .map_err(|e| format!("scenario {}: {e}", traffic.shown()))?;
                    client::preflight(&exchange.transport, request, &config).await?;
                }
                traffic.open_sessions(&*setup).await?;
                let reauth = scenario::reauth_codes(traffic.shown(), &traffic.reauth_status)?;
                Mode::Scenario {
                    traffic: Arc::new(traffic),
                    setup,
                    reauth,
                }
            }
        };
        let mut limits = Limits::new(config.max_in_flight);
        if let Some(timeout) = config.timeout {
            limits = limits.request_timeout(timeout);
        }
        Ok(Http {
            requests: Requests::new(&ctx, limits, HttpService { exchange, mode }),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        self.requests.fire(batch)
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.requests.service().exchange.tally.counters();
        counters.extend(self.requests.counters());
        counters
    }

    fn series_specs(&self) -> Vec<SeriesSpec> {
        match &self.requests.service().mode {
            Mode::Single { .. } => vec![SeriesSpec::from(HTTP)],
            Mode::Scenario { traffic, .. } => traffic.series_specs(),
        }
    }
}

/// The scenario compiled, and the origin all its requests go to.
fn read_scenario(
    file: &str,
    config: &HttpConfig,
    seed: u64,
) -> Result<(Traffic<Calls>, String), String> {
    let scenario = ScenarioFile::<HttpStep>::load(file, seed, &[])?;
    let base = match &scenario.base_url {
        None => None,
        Some(url) => Some(Base::split(url.trim()).ok_or_else(|| {
            format!("scenario {file}: base_url '{url}' is not an http(s) URL with a host")
        })?),
    };
    let mut origin: Option<String> = None;
    let traffic = scenario.compile(|step, c| {
        let (call, its_origin) = scenario::compile(step, c, base.as_ref(), config.http2)?;
        same_origin(&mut origin, its_origin, || c.error("url"))?;
        Ok(Calls(vec![call]))
    })?;
    Ok((traffic, origin.unwrap_or_default()))
}

/// Every request goes to one origin: one pool of connections.
fn same_origin(
    seen: &mut Option<String>,
    origin: String,
    at: impl FnOnce() -> String,
) -> Result<(), String> {
    match seen {
        Some(first) if !first.eq_ignore_ascii_case(&origin) => Err(format!(
            "{}: goes to {origin}, an earlier one to {first} (all requests go to one origin)",
            at()
        )),
        Some(_) => Ok(()),
        None => {
            *seen = Some(origin);
            Ok(())
        }
    }
}

/// A Vegeta targets file as a scenario: a request per series (`METHOD path`
/// or `# name=`), its targets taken in turn, weighted by their count.
fn read_targets(
    file: &str,
    json: bool,
    config: &HttpConfig,
    seed: u64,
) -> Result<(Traffic<Calls>, String), String> {
    let targets = targets::load(file, json)?;
    let mut groups: Vec<(String, Vec<targets::Target>)> = Vec::new();
    for target in targets {
        let name = target.series_name();
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, group)) => group.push(target),
            None => groups.push((name, vec![target])),
        }
    }
    if groups.len() > traffic::MAX_REQUESTS {
        return Err(format!(
            "targets {file}: {} series (distinct 'METHOD path'): at most {}; name targets with '# name=…' to group them",
            groups.len(),
            traffic::MAX_REQUESTS
        ));
    }
    let requests = groups
        .into_iter()
        .enumerate()
        .map(|(index, (name, group))| Step {
            kind: StepKind::Request,
            index,
            name,
            weight: group.iter().map(|t| t.weight).sum::<u32>().max(1),
            expect_status: None,
            slo_p95: None,
            slo_p99: None,
            captures: Vec::new(),
            fields: group,
        })
        .collect();
    let scenario = ScenarioFile {
        shown: file.to_string(),
        dir: Path::new(file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        base_url: None,
        sessions: 1,
        reauth_status: Vec::new(),
        data: Vec::new(),
        setup: Vec::new(),
        requests,
        extra: Default::default(),
        seed,
    };
    let mut origin: Option<String> = None;
    let traffic = scenario.compile(|step, c| {
        let mut calls = Vec::with_capacity(step.fields.len());
        for target in &step.fields {
            let call = scenario::target_call(target, config.http2)
                .map_err(|e| format!("targets {file}: {} {}: {e}", target.method, target.url))?;
            same_origin(&mut origin, call.1, || {
                format!("targets {file}: {} {}", target.method, target.url)
            })?;
            calls.push(call.0);
        }
        let _ = c;
        Ok(Calls(calls))
    })?;
    Ok((traffic, origin.unwrap_or_default()))
}

export_plugin!(Http);
