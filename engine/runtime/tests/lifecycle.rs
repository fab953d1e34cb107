//! The RampController's step lifecycle under tokio's paused clock: real
//! phase lengths (10 s warmup, 30 s hold) run in no wall time, against
//! scripted children. No sleep anywhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadgen_core::config::RunConfig;
use loadgen_core::search::Search;
use loadgen_core::steps::StepList;
use loadgen_core::verdict::{Doubt, SeriesLatency, Signal, Verdict};
use loadgen_runtime::clock::TokioClock;
use loadgen_runtime::collector::{CollectorMsg, CollectorStats, SeriesStats};
use loadgen_runtime::counters::{CounterMsg, CounterSnapshot};
use loadgen_runtime::pacer::{PacerCounts, PacerMsg};
use loadgen_runtime::pending::PendingMsg;
use loadgen_runtime::ramp::machine::StepMachine;
use loadgen_runtime::ramp::{RampArgs, RampController, RampMsg, RampOutcome, SeriesInUse};
use loadgen_runtime::reporter::ReporterMsg;
use loadgen_runtime::supervisor::Children;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// What the children were told, and when (seconds since the test began).
type Log = Arc<Mutex<Vec<(f64, String)>>>;

/// A scripted child: answers every question its message type asks.
struct Fake {
    log: Log,
    origin: Instant,
    /// The hold-start backlog reading fails with this.
    begin_fails: Option<String>,
    /// The counter scraper never answers (its questions time out).
    counters_silent: bool,
}

impl Fake {
    fn note(&self, what: impl Into<String>) {
        let t = self.origin.elapsed().as_secs_f64();
        self.log
            .lock()
            .unwrap()
            .push(((t * 10.0).round() / 10.0, what.into()));
    }
}

macro_rules! fake_actor {
    ($msg:ty, $state:ty, |$me:ident, $m:ident, $st:ident| $body:block) => {
        impl Actor for FakeOf<$msg> {
            type Msg = $msg;
            type State = $state;
            type Arguments = ();
            async fn pre_start(
                &self,
                _: ActorRef<$msg>,
                _: (),
            ) -> Result<$state, ActorProcessingErr> {
                Ok(Default::default())
            }
            async fn handle(
                &self,
                _: ActorRef<$msg>,
                $m: $msg,
                $st: &mut $state,
            ) -> Result<(), ActorProcessingErr> {
                let $me = &self.0;
                $body
                Ok(())
            }
        }
    };
}

struct FakeOf<M>(Fake, std::marker::PhantomData<M>);

fake_actor!(PacerMsg, u64, |me, m, rps| {
    match m {
        PacerMsg::Start(times) | PacerMsg::StartSlice(times, _) => {
            *rps = times.rps;
            me.note(format!("pacer start {}", times.rps));
        }
        PacerMsg::Halt => me.note("pacer halt"),
        PacerMsg::Report(reply) => {
            let _ = reply.send(PacerCounts {
                accepted: *rps * 30,
                ..PacerCounts::default()
            });
        }
    }
});

fake_actor!(CollectorMsg, (), |me, m, _s| {
    match m {
        CollectorMsg::Window { .. } => me.note("collector window"),
        CollectorMsg::Snapshot(reply) => {
            let _ = reply.send(CollectorStats {
                series: vec![SeriesStats {
                    latency: SeriesLatency {
                        name: "op".into(),
                        count: 1000,
                        p50: Duration::from_millis(1),
                        p95: Duration::from_millis(2),
                        p99: Duration::from_millis(3),
                        max: Duration::from_millis(4),
                    },
                    service_p99: Duration::from_millis(1),
                    errors: 0,
                    timeouts: 0,
                    lost: 0,
                    answered_in_hold: 0, // no goodput measured
                }],
            });
        }
        CollectorMsg::Disturbances(reply) => {
            let _ = reply.send(Vec::new());
        }
        _ => {}
    }
});

fake_actor!(PendingMsg, (), |me, m, _s| {
    match m {
        PendingMsg::Begin(reply) => {
            me.note("backlog begin");
            let _ = reply.send(me.begin_fails.clone().map_or(Ok(Default::default()), Err));
        }
        PendingMsg::End(reply) => {
            me.note("backlog end");
            let _ = reply.send(Ok(Vec::new()));
        }
        PendingMsg::Read(reply) => {
            let _ = reply.send(Ok(Default::default()));
        }
    }
});

type Unanswered = Vec<ractor::RpcReplyPort<Result<CounterSnapshot, String>>>;

fake_actor!(CounterMsg, Unanswered, |me, m, unanswered| {
    let CounterMsg::Snapshot(reply) = m;
    me.note("counters");
    if me.counters_silent {
        unanswered.push(reply);
    } else {
        let _ = reply.send(Ok(Default::default()));
    }
});

fake_actor!(ReporterMsg, (), |me, m, _s| {
    if let ReporterMsg::StepFinished(step) = m {
        me.note(format!("step {} {}", step.target_rps, step.verdict.label()));
    }
});

struct AllSeries;

impl SeriesInUse for AllSeries {
    fn series_in_use(&self) -> Result<Vec<u16>, String> {
        Ok(vec![0])
    }
}

async fn spawn<M: ractor::Message>(fake: Fake) -> ActorRef<M>
where
    FakeOf<M>: Actor<Msg = M, Arguments = ()>,
{
    Actor::spawn(None, FakeOf(fake, std::marker::PhantomData), ())
        .await
        .unwrap()
        .0
}

struct Ramp {
    log: Log,
    ramp: ActorRef<RampMsg>,
    done: oneshot::Receiver<RampOutcome>,
}

/// A ramp over `rates` with the default phases (10 s warmup, 30 s hold,
/// 2 s drain, 5 s cooldown) and scripted children.
async fn ramp(rates: &[u64], begin_fails: Option<&str>, counters_silent: bool) -> Ramp {
    let log: Log = Arc::default();
    let origin = Instant::now();
    let fake = || Fake {
        log: Arc::clone(&log),
        origin,
        begin_fails: begin_fails.map(String::from),
        counters_silent,
    };
    let children = Children {
        pacer: spawn(fake()).await,
        collector: spawn(fake()).await,
        pending: spawn(fake()).await,
        counters: spawn(fake()).await,
    };
    let reporter = spawn(fake()).await;
    let mut config = RunConfig::new("fake");
    config.rates.steps = Some(StepList(rates.to_vec()));
    let mut search = Search::new(config.plan()).retry_inconclusive(1);
    let first = search.next(None);
    let (done_tx, done) = oneshot::channel();
    let controller = RampController {
        reporter,
        plugin: Arc::new(AllSeries),
        clock: Arc::new(TokioClock::new()),
    };
    let args = RampArgs {
        machine: StepMachine::new(config, search, first),
        children,
        resumed: Vec::new(),
        done: done_tx,
    };
    let (ramp, _) = Actor::spawn(None, controller, args).await.unwrap();
    Ramp { log, ramp, done }
}

fn entries(log: &Log) -> Vec<(f64, String)> {
    log.lock().unwrap().clone()
}

#[tokio::test(start_paused = true)]
async fn phases_run_in_order_at_their_times_on_a_paused_clock() {
    let r = ramp(&[100, 200], None, false).await;
    let outcome = r.done.await.unwrap();
    assert!(!outcome.interrupted);
    assert_eq!(outcome.steps.len(), 2);
    let log: Vec<(f64, String)> = entries(&r.log)
        .into_iter()
        .filter(|(_, what)| what != "counters")
        .collect();
    let want: &[(f64, &str)] = &[
        (0.0, "collector window"),
        (0.0, "pacer start 100"),
        (10.0, "backlog begin"),
        (40.0, "backlog end"),
        (42.1, "step 100 PASS"),
        // cooldown 5 s, then settle reads the (idle) backlog once
        (47.1, "collector window"),
        (47.1, "pacer start 200"),
        (57.1, "backlog begin"),
        (87.1, "backlog end"),
        (89.2, "step 200 PASS"),
    ];
    let got: Vec<(f64, &str)> = log.iter().map(|(t, w)| (*t, w.as_str())).collect();
    assert_eq!(got, want);
}

#[tokio::test(start_paused = true)]
async fn cancel_mid_hold_halts_the_pacer_and_ends_with_what_finished() {
    let r = ramp(&[100, 200], None, false).await;
    tokio::time::advance(Duration::from_secs(20)).await; // mid-hold of step 1
    r.ramp.send_message(RampMsg::Cancel).unwrap();
    let outcome = r.done.await.unwrap();
    assert!(outcome.interrupted);
    assert!(outcome.steps.is_empty(), "the cut-short step is dropped");
    let log = entries(&r.log);
    assert_eq!(log.last().unwrap(), &(20.0, "pacer halt".to_string()));
    assert!(!log.iter().any(|(_, w)| w == "backlog end"));
}

#[tokio::test(start_paused = true)]
async fn a_failed_snapshot_makes_the_step_inconclusive_and_it_is_rerun() {
    let r = ramp(&[100], Some("consumer info: timed out"), false).await;
    let outcome = r.done.await.unwrap();
    let verdicts: Vec<(&Verdict, u32)> = outcome
        .steps
        .iter()
        .map(|s| (&s.verdict, s.attempt))
        .collect();
    let why = Verdict::Inconclusive(Doubt::Unavailable {
        signal: Signal::Backlog,
        error: "consumer info: timed out".into(),
    });
    assert_eq!(
        why.reasons(),
        ["backlog signal unavailable: consumer info: timed out"]
    );
    assert_eq!(verdicts, [(&why, 1), (&why, 2)]);
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_question_is_that_steps_inconclusive_and_the_run_goes_on() {
    let r = ramp(&[100, 200], None, true).await;
    let outcome = r.done.await.unwrap();
    let rates: Vec<(u64, u32)> = outcome
        .steps
        .iter()
        .map(|s| (s.target_rps, s.attempt))
        .collect();
    assert_eq!(
        rates,
        [(100, 1), (100, 2), (200, 1), (200, 2)],
        "re-run, then on"
    );
    for step in &outcome.steps {
        assert_eq!(
            step.verdict,
            Verdict::Inconclusive(Doubt::Unavailable {
                signal: Signal::Counter,
                error: "counter snapshot: no answer in 10s".into(),
            })
        );
    }
    assert!(!outcome.interrupted);
}
