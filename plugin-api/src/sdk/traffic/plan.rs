//! [`Traffic`]: a compiled scenario at run time: which request and session
//! each op uses (pure functions of the op's number, no lock), the sessions'
//! variables, and running the setup steps (at start, and again when an
//! answer matches `reauth_status`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::super::series::Series;
use super::capture::{Capture, Reply};
use super::data::DataSource;
use super::hash::hash3;
use super::scenario::Step;
use super::template::{OpContext, Vars};

/// A step compiled: the SDK's keys and the plugin's compiled call `C`.
#[derive(Debug)]
pub struct Compiled<C> {
    pub name: String,
    /// `request 'item'`, `setup #1 'login'`.
    pub label: String,
    pub weight: u32,
    pub expect_status: Option<String>,
    pub slo_p95: Option<Duration>,
    pub slo_p99: Option<Duration>,
    pub captures: Vec<Capture>,
    /// The variable slot each capture fills.
    slots: Vec<usize>,
    /// Requests: the series its ops are recorded on (index = position).
    pub series: Series,
    pub call: C,
}

impl<C> Compiled<C> {
    pub(crate) fn new<R>(step: Step<R>, call: C, slots: Vec<usize>) -> Compiled<C> {
        // Series names live for the run: a scenario is read once per run.
        let name: &'static str = Box::leak(step.name.clone().into_boxed_str());
        Compiled {
            label: step.label(),
            series: Series::new(step.index as u16, name),
            name: step.name,
            weight: step.weight,
            expect_status: step.expect_status,
            slo_p95: step.slo_p95,
            slo_p99: step.slo_p99,
            captures: step.captures,
            slots,
            call,
        }
    }
}

/// What one op does: its request (index into [`Traffic::requests`]), its
/// session, and its number (which seeds its data rows and random values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpPlan {
    pub seq: u64,
    pub request: usize,
    pub session: u64,
}

/// How a plugin runs one step (setup at start and on re-authentication).
pub trait Caller<C>: Send + Sync + 'static {
    /// What to send, rendered from the step's templates (synchronous: the
    /// context borrows the session's variables).
    type Prepared: Send;
    fn prepare(&self, step: &Compiled<C>, op: &OpContext<'_>) -> Self::Prepared;
    /// Send it; the answer with `ok` set by the step's `expect_status`.
    /// `Err`: no answer (connection refused…), in one line.
    fn call(&self, prepared: Self::Prepared) -> impl Future<Output = Result<Reply, String>> + Send;
}

struct Session {
    vars: RwLock<Arc<Vars>>,
    /// A re-run of the setup is under way: later matches wait for it.
    reauthing: AtomicBool,
}

/// The compiled scenario, shared by every worker thread.
pub struct Traffic<C> {
    shown: String,
    pub base_url: Option<String>,
    pub reauth_status: Vec<String>,
    data: Vec<Arc<DataSource>>,
    setup: Vec<Compiled<C>>,
    requests: Vec<Compiled<C>>,
    /// Cumulative weights: request `i` takes `[cumulative[i-1], cumulative[i])`.
    cumulative: Vec<u64>,
    sessions: Vec<Session>,
    slots: usize,
    seed: u64,
    reauths: AtomicU64,
    reauth_failures: AtomicU64,
}

impl<C> Traffic<C> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        shown: String,
        base_url: Option<String>,
        sessions: u64,
        reauth_status: Vec<String>,
        data: Vec<Arc<DataSource>>,
        setup: Vec<Compiled<C>>,
        requests: Vec<Compiled<C>>,
        slots: usize,
        seed: u64,
    ) -> Traffic<C> {
        let cumulative = requests
            .iter()
            .scan(0u64, |sum, r| {
                *sum += u64::from(r.weight);
                Some(*sum)
            })
            .collect();
        Traffic {
            shown,
            base_url,
            reauth_status,
            data,
            setup,
            requests,
            cumulative,
            sessions: (0..sessions)
                .map(|_| Session {
                    vars: RwLock::new(Arc::new(Vars(vec![String::new(); slots]))),
                    reauthing: AtomicBool::new(false),
                })
                .collect(),
            slots,
            seed,
            reauths: AtomicU64::new(0),
            reauth_failures: AtomicU64::new(0),
        }
    }

    /// The scenario file as named, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn requests(&self) -> &[Compiled<C>] {
        &self.requests
    }

    pub fn setup(&self) -> &[Compiled<C>] {
        &self.setup
    }

    pub fn data(&self) -> &[Arc<DataSource>] {
        &self.data
    }

    pub fn sessions(&self) -> u64 {
        self.sessions.len() as u64
    }

    /// One series per request, in order (the plugin's `series_in_use`).
    pub fn series(&self) -> Vec<Series> {
        self.requests.iter().map(|r| r.series).collect()
    }

    /// Op `seq`'s request (by weight, seeded) and session (round-robin).
    pub fn plan(&self, seq: u64) -> OpPlan {
        let request = match self.cumulative.as_slice() {
            [_] => 0,
            all => {
                let total = all[all.len() - 1];
                let ticket = hash3(self.seed, 0x006d_6978, seq) % total;
                all.partition_point(|&end| end <= ticket)
            }
        };
        OpPlan {
            seq,
            request,
            session: seq % self.sessions.len() as u64,
        }
    }

    /// The session's variables now (cheap: a read lock and a reference count).
    pub fn vars(&self, session: u64) -> Arc<Vars> {
        let session = &self.sessions[session as usize];
        let vars = session.vars.read().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&vars)
    }

    /// The template context of `op` with its session's `vars`.
    pub fn context<'a>(&'a self, op: &OpPlan, vars: &'a Vars) -> OpContext<'a> {
        OpContext {
            seq: op.seq,
            session: op.session,
            vars,
            data: &self.data,
            seed: self.seed,
        }
    }

    /// Re-authentications started, and those whose setup failed.
    pub fn reauth_counts(&self) -> (u64, u64) {
        (
            self.reauths.load(Ordering::Relaxed),
            self.reauth_failures.load(Ordering::Relaxed),
        )
    }

    /// Runs the setup steps of every session, in order within each session,
    /// before the first op. The first failure is the error: `session 3:
    /// setup #1 'login' answered 500`.
    pub async fn open_sessions<K: Caller<C>>(&self, caller: &K) -> Result<(), String> {
        if self.setup.is_empty() {
            return Ok(());
        }
        for session in 0..self.sessions() {
            self.run_setup(session, caller)
                .await
                .map_err(|e| format!("scenario {}: {e}", self.shown))?;
        }
        Ok(())
    }

    /// Runs the setup of `session` and installs its variables.
    pub async fn run_setup<K: Caller<C>>(&self, session: u64, caller: &K) -> Result<(), String> {
        let mut vars = Vars(vec![String::new(); self.slots]);
        for step in &self.setup {
            let prepared = {
                let op = OpPlan {
                    seq: session,
                    request: 0,
                    session,
                };
                caller.prepare(step, &self.context(&op, &vars))
            };
            let reply = caller
                .call(prepared)
                .await
                .map_err(|e| format!("session {session}: {}: {e}", step.label))?;
            if !reply.ok {
                return Err(format!(
                    "session {session}: {} answered {}",
                    step.label, reply.status
                ));
            }
            for (capture, slot) in step.captures.iter().zip(&step.slots) {
                vars.0[*slot] = capture.take(&reply).ok_or_else(|| {
                    format!(
                        "session {session}: {}: capture '{}' ({}) found nothing in the answer ({})",
                        step.label, capture.var, capture.spec, reply.status
                    )
                })?;
            }
        }
        let slot = &self.sessions[session as usize];
        *slot.vars.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(vars);
        Ok(())
    }
}

impl<C: Send + Sync + 'static> Traffic<C> {
    /// An answer to one of `session`'s ops matched `reauth_status`: re-run its
    /// setup in the background, once (matches while it runs are ignored).
    /// `false` when a re-run was already under way or there is no setup.
    pub fn reauth<K: Caller<C>>(self: &Arc<Self>, session: u64, caller: Arc<K>) -> bool {
        let Some(state) = self.sessions.get(session as usize) else {
            return false;
        };
        if self.setup.is_empty() || state.reauthing.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.reauths.fetch_add(1, Ordering::Relaxed);
        let traffic = Arc::clone(self);
        tokio::spawn(async move {
            if traffic.run_setup(session, &*caller).await.is_err() {
                traffic.reauth_failures.fetch_add(1, Ordering::Relaxed);
            }
            traffic.sessions[session as usize]
                .reauthing
                .store(false, Ordering::Release);
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::scenario::{ScenarioFile, StepFields};
    use super::super::template::Template;
    use super::*;
    use serde::Deserialize;
    use std::path::Path;
    use std::sync::Mutex;

    #[derive(Debug, Deserialize)]
    struct Fields {
        url: String,
    }

    impl StepFields for Fields {
        fn default_name(&self) -> String {
            self.url.clone()
        }
    }

    fn traffic(text: &str) -> Traffic<Template> {
        ScenarioFile::<Fields>::parse(text, "s.toml", Path::new("."), 3, &[])
            .unwrap()
            .compile(|step, c| c.template("url", &step.fields.url))
            .unwrap()
    }

    /// A "server" answering each rendered URL from a script; records what it saw.
    struct Scripted {
        seen: Mutex<Vec<String>>,
        answer: fn(&str) -> Reply,
    }

    impl Caller<Template> for Scripted {
        type Prepared = String;
        fn prepare(&self, step: &Compiled<Template>, op: &OpContext<'_>) -> String {
            step.call.render(op)
        }
        async fn call(&self, url: String) -> Result<Reply, String> {
            self.seen.lock().unwrap().push(url.clone());
            Ok((self.answer)(&url))
        }
    }

    fn ok(body: &str) -> Reply {
        Reply {
            status: "200".into(),
            ok: true,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn ops_follow_the_weights_and_take_sessions_in_turn() {
        let t = traffic("sessions = 3\n[[request]]\nname = \"a\"\nweight = 9\nurl = \"/a\"\n[[request]]\nname = \"b\"\nurl = \"/b\"\n");
        let plans: Vec<OpPlan> = (0..10_000).map(|s| t.plan(s)).collect();
        let b = plans.iter().filter(|p| p.request == 1).count();
        assert!((800..1200).contains(&b), "about 1 in 10 ops are b: {b}");
        assert_eq!(
            plans[..4].iter().map(|p| p.session).collect::<Vec<_>>(),
            [0, 1, 2, 0]
        );
        assert_eq!(t.plan(77), t.plan(77), "a pure function of the op");
    }

    #[tokio::test]
    async fn setup_captures_feed_later_steps_and_requests_and_failures_name_the_session() {
        let text = "sessions = 2\n[[setup]]\nurl = \"/login/{{session}}\"\ncapture = { token = \"json:/t\" }\n[[setup]]\nurl = \"/me/{{token}}\"\n[[request]]\nurl = \"/x?{{token}}\"\n";
        let t = traffic(text);
        let caller = Scripted {
            seen: Mutex::new(vec![]),
            answer: |url| ok(&format!("{{\"t\": \"tok{}\"}}", &url[url.len() - 1..])),
        };
        t.open_sessions(&caller).await.unwrap();
        assert_eq!(
            *caller.seen.lock().unwrap(),
            ["/login/0", "/me/tok0", "/login/1", "/me/tok1"]
        );
        let op = t.plan(5);
        let vars = t.vars(op.session);
        assert_eq!(
            t.requests()[0].call.render(&t.context(&op, &vars)),
            "/x?tok1"
        );

        let refused = Scripted {
            seen: Mutex::new(vec![]),
            answer: |url| Reply {
                status: "500".into(),
                ok: !url.starts_with("/me"),
                ..ok("{\"t\": \"x\"}")
            },
        };
        let err = traffic(text).open_sessions(&refused).await.unwrap_err();
        assert_eq!(
            err,
            "scenario s.toml: session 0: setup #2 '/me/{{token}}' answered 500"
        );
        let empty = Scripted {
            seen: Mutex::new(vec![]),
            answer: |_| ok("{}"),
        };
        let err = traffic(text).open_sessions(&empty).await.unwrap_err();
        assert_eq!(
            err,
            "scenario s.toml: session 0: setup #1 '/login/{{session}}': capture 'token' (json:/t) found nothing in the answer (200)"
        );
    }

    #[tokio::test]
    async fn reauth_reruns_the_setup_once_at_a_time() {
        let t = Arc::new(traffic("[[setup]]\nurl = \"/login\"\ncapture = { token = \"json:/t\" }\n[[request]]\nurl = \"/x\"\n"));
        let caller = Arc::new(Scripted {
            seen: Mutex::new(vec![]),
            answer: |_| ok("{\"t\": \"new\"}"),
        });
        assert!(t.reauth(0, Arc::clone(&caller)));
        assert!(!t.reauth(0, Arc::clone(&caller)), "one re-run at a time");
        for _ in 0..100 {
            if t.vars(0).get(0) == "new" && t.reauth(0, Arc::clone(&caller)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(t.reauth_counts(), (2, 0));
    }
}
