//! [`Requests`]: the fire loop of a request/reply workload, written once.
//!
//! A plugin that sends a request and awaits its answer implements
//! [`Service`] (which series an op is on and what it sends; how to send it)
//! and calls [`Requests::fire`] from `Plugin::fire`. The helper starts each
//! op in an [`InFlight`] table (saturation past `max_in_flight`), runs a
//! batch's ops side by side in **one** task (a spawn per op costs the pacer's
//! thread an inject-queue push and a worker wake-up each), cuts each op off
//! at its deadline (request timeout or loss deadline: a Timeout or Lost
//! sample), and ends it exactly once with the answer.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::inflight::{InFlight, Limits};
use super::quiet::stamped;
use super::sample::{Answer, Sent};
use super::series::Series;
use super::Context;
use crate::abi::{Batch, Counter, FireAck, MonoNanos};
use crate::clock;

/// One request/reply protocol.
pub trait Service: Send + Sync + 'static {
    /// What an op sends, decided on the pacer's thread (keep it cheap: pick,
    /// don't render; rendering belongs in `call`, on a worker).
    type Op: Send + 'static;

    /// Op number `seq` (0, 1, 2 … over the run): its series and what it sends.
    fn prepare(&self, seq: u64) -> (Series, Self::Op);

    /// Send the op and await its answer. Never needs its own timeout: the
    /// helper drops this future at the op's deadline.
    fn call(&self, op: Self::Op) -> impl Future<Output = Answer> + Send;

    /// The answer that ended an op (not a late one after its deadline), e.g.
    /// to count failures by reason.
    fn answered(&self, _answer: Answer) {}
}

/// Fires [`Service`] ops: the whole `Plugin::fire` of a request/reply plugin.
pub struct Requests<S> {
    service: Arc<S>,
    table: Arc<InFlight<u64>>,
    /// The op number and in-flight key: ops of two steps overlap in the
    /// drain, so the step-local op index would not do.
    next: AtomicU64,
}

impl<S: Service> Requests<S> {
    /// On `ctx`'s recorder and loss deadline, with `limits`.
    pub fn new<O>(ctx: &Context<O>, limits: Limits, service: S) -> Requests<S> {
        Requests {
            service: Arc::new(service),
            table: ctx.in_flight(limits),
            next: AtomicU64::new(0),
        }
    }

    pub fn service(&self) -> &Arc<S> {
        &self.service
    }

    pub fn table(&self) -> &Arc<InFlight<u64>> {
        &self.table
    }

    /// The in-flight table's counters (saturated, timeouts, lost).
    pub fn counters(&self) -> Vec<Counter> {
        self.table.counters()
    }

    /// Starts the batch's ops and returns at once.
    pub fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        let mut started = Vec::with_capacity(batch.count as usize);
        for op in batch.ops() {
            let seq = self.next.fetch_add(1, Ordering::Relaxed);
            let (series, call) = self.service.prepare(seq);
            let sent = op.sent_at(clock::now());
            if self.table.start_counted(&mut ack, seq, sent, series) {
                started.push((seq, sent, call));
            }
        }
        let (service, table) = (Arc::clone(&self.service), Arc::clone(&self.table));
        match started.len() {
            0 => {}
            1 => {
                let (seq, sent, call) = started.pop().expect("one op");
                tokio::spawn(async move { run(&*service, &table, seq, sent, call).await });
            }
            _ => {
                tokio::spawn(async move {
                    let mut ops: FuturesUnordered<_> = started
                        .into_iter()
                        .map(|(seq, sent, call)| run(&*service, &table, seq, sent, call))
                        .collect();
                    while ops.next().await.is_some() {}
                });
            }
        }
        ack
    }
}

/// One op from its send to its end in the table.
async fn run<S: Service>(service: &S, table: &InFlight<u64>, key: u64, sent: Sent, op: S::Op) {
    let (deadline, _) = table.deadline(sent);
    let budget = Duration::from_nanos(deadline.since(clock::now()));
    match tokio::time::timeout(budget, stamped(service.call(op))).await {
        Ok((answer, arrived)) => {
            // An answer read after it arrived (a quiet socket) is dated by
            // its arrival; never later than now nor before its send.
            let now = clock::now();
            let done = arrived.map_or(now, |at| MonoNanos(at.0.clamp(sent.sent.0, now.0)));
            // `false`: the deadline passed meanwhile and the op ended there.
            if table.complete(&key, answer, done) {
                service.answered(answer);
            }
        }
        Err(_) => {
            table.expire_key(&key, clock::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::Outcome;
    use crate::sdk::{Info, Plugin, Reason};

    const A: Series = Series::new(0, "a");
    const B: Series = Series::new(1, "b");
    const NO: Reason = Reason::new(0, "no");

    /// Even ops on `a` answer Ok after 1ms; odd ops on `b` fail, every 5th
    /// never answers (its deadline ends it).
    struct Echo;

    impl Service for Echo {
        type Op = u64;
        fn prepare(&self, seq: u64) -> (Series, u64) {
            (if seq.is_multiple_of(2) { A } else { B }, seq)
        }
        async fn call(&self, seq: u64) -> Answer {
            if seq % 5 == 4 {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            if seq.is_multiple_of(2) {
                Answer::Ok
            } else {
                Answer::Error(NO)
            }
        }
    }

    struct P(Requests<Echo>);

    impl Plugin for P {
        type Options = ();
        fn info() -> Info {
            Info::new("p", "0", "").series(&[A, B]).error_reasons(&[NO])
        }
        async fn start(ctx: Context<()>) -> Result<P, String> {
            let limits = Limits::new(100).request_timeout(Duration::from_millis(50));
            Ok(P(Requests::new(&ctx, limits, Echo)))
        }
        fn fire(&self, batch: Batch) -> FireAck {
            self.0.fire(batch)
        }
    }

    #[test]
    fn every_op_ends_once_on_its_series_and_a_silent_one_times_out() {
        let (workload, sink) = crate::testing::start::<P>(&[], Duration::from_secs(5)).unwrap();
        let batch = Batch {
            first_op: 0,
            first_intended: clock::now(),
            interval_ns: 1000,
            count: 10,
        };
        assert_eq!(workload.fire(batch).unwrap(), FireAck::all_accepted(10));
        let mut samples = sink.wait_for(10, Duration::from_secs(5));
        samples.sort_by_key(|s| (s.series, s.outcome as u8));
        let got: Vec<(u16, Outcome)> = samples.iter().map(|s| (s.series, s.outcome)).collect();
        use Outcome::*;
        assert_eq!(
            got,
            [
                (0, Ok),
                (0, Ok),
                (0, Ok),
                (0, Ok),
                (0, Timeout),
                (1, Error),
                (1, Error),
                (1, Error),
                (1, Error),
                (1, Timeout)
            ]
        );
        workload.shutdown().unwrap();
    }
}
