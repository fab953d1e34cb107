//! `template`: a request/reply workload against a stand-in service that
//! answers after `latency` (every `error_every`-th request with an error).
//! Replace `Service::call` with your client (HTTP, gRPC, a database…); the
//! rest — options, series, in-flight table, counters — stays as it is.
//!
//! Run it: `cargo build --release`, then
//! `loadgen max-rps --plugin ./target/release/libloadgen_plugin_template.so --steps 100,200`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::sdk::*;
use loadgen_plugin_api::{counter_set, export_plugin, options};

/// The one latency series: request sent → reply received.
pub const REPLY: Series = Series::new(0, "reply");
/// The service answered with an error.
pub const REFUSED: Reason = Reason::new(0, "refused");

options! {
    pub struct TemplateOptions {
        /// how long the stand-in service takes to answer, e.g. 2ms
        latency: Duration = "2ms",
        /// every Nth request is answered with error 'refused' (0 = never)
        error_every: u64 = "0",
        /// requests awaiting replies beyond which new ops are refused (saturation)
        max_in_flight: Positive<usize> = "10000",
        /// how long a request waits for its reply after its send (Timeout after that)
        request_timeout: Positive<Duration> = "5s",
    }
}

counter_set! {
    pub struct Tally {
        /// Requests sent.
        requests,
        /// Replies that were errors.
        refused,
    }
}

/// The stand-in for the system under test.
#[derive(Clone)]
struct Service {
    latency: Duration,
    error_every: u64,
}

impl Service {
    async fn call(&self, request: u64) -> Result<(), ()> {
        tokio::time::sleep(self.latency).await;
        match self.error_every {
            0 => Ok(()),
            n if request % n == n - 1 => Err(()),
            _ => Ok(()),
        }
    }
}

pub struct Template {
    service: Service,
    table: Arc<InFlight<u64>>,
    tally: Arc<Tally>,
    /// The table's key: the engine's op index restarts every step.
    next_request: AtomicU64,
}

impl Plugin for Template {
    type Options = TemplateOptions;

    fn info() -> Info {
        Info::new(
            "template",
            env!("CARGO_PKG_VERSION"),
            "A request/reply workload to copy: a stand-in service with a fixed latency.",
        )
        .series(&[REPLY])
        .error_reasons(&[REFUSED])
        .counters(Tally::declare())
        .counters(InFlight::<u64>::declare_counters())
        .default_steps("100,200,500,1k")
    }

    async fn start(ctx: Context<TemplateOptions>) -> Result<Self, String> {
        let o = &ctx.options;
        let limits = Limits::new(o.max_in_flight.get()).request_timeout(o.request_timeout.get());
        Ok(Template {
            service: Service {
                latency: o.latency,
                error_every: o.error_every,
            },
            table: ctx.in_flight(limits),
            tally: Arc::default(),
            next_request: AtomicU64::new(0),
        })
    }

    fn fire(&self, batch: Batch) -> FireAck {
        let mut ack = FireAck::default();
        for op in batch.ops() {
            let request = self.next_request.fetch_add(1, Ordering::Relaxed);
            let sent = op.sent_at(clock::now());
            if !self.table.start_counted(&mut ack, request, sent, REPLY) {
                continue; // saturated: max_in_flight requests are open
            }
            bump(&self.tally.requests);
            let (service, table, tally) = (
                self.service.clone(),
                Arc::clone(&self.table),
                Arc::clone(&self.tally),
            );
            tokio::spawn(async move {
                // No timer needed here: the table records Timeout or Lost at
                // the deadline, and ignores an answer that comes later.
                let answer = match service.call(request).await {
                    Ok(()) => Answer::Ok,
                    Err(()) => {
                        bump(&tally.refused);
                        Answer::Error(REFUSED)
                    }
                };
                table.complete(&request, answer, clock::now());
            });
        }
        ack
    }

    fn counters(&self) -> Vec<Counter> {
        let mut counters = self.tally.counters();
        counters.extend(self.table.counters());
        counters
    }
}

export_plugin!(Template);
