//! Prometheus counters (processed / rejected / failed per service, injected
//! faults) and a minimal HTTP responder for them. A full HTTP framework
//! would double the dependency tree for one GET, so the responder reads a
//! request head and answers every path with the metrics text.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::knobs::Service;
use crate::shutdown::stopped;

/// How one operation ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done as asked (a send stored, a page served, a broadcast published).
    Processed,
    /// Refused on its merits (not a member, malformed, injected error).
    Rejected,
    /// The testbed could not do it (a publish or ack failed).
    Failed,
}

type Labels = [(&'static str, &'static str); 1];
type FaultLabels = [(&'static str, &'static str); 2];

/// Injected faults, by kind; counted so a test can tell designed loss from
/// real loss.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    Error,
    Drop,
    Malformed,
}

/// All counters. Handles are cloned out of the families once, so counting
/// is one atomic add, never a map lookup.
pub struct Metrics {
    registry: Registry,
    counters: Vec<[Counter; 3]>,
    faults: Family<FaultLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let families: [Family<Labels, Counter>; 3] = Default::default();
        for (family, (name, help)) in families.iter().zip([
            ("chat_testbed_processed", "Operations completed, by service"),
            (
                "chat_testbed_rejected",
                "Operations refused on their merits, by service",
            ),
            (
                "chat_testbed_failed",
                "Operations the testbed failed to complete, by service",
            ),
        ]) {
            registry.register(name, help, family.clone());
        }
        let faults = Family::<FaultLabels, Counter>::default();
        registry.register(
            "chat_testbed_faults_injected",
            "Faults injected on purpose",
            faults.clone(),
        );
        let counters = Service::ALL
            .iter()
            .map(|s| {
                let labels = [("service", s.name())];
                [0, 1, 2].map(|i| families[i].get_or_create(&labels).clone())
            })
            .collect();
        Metrics {
            registry,
            counters,
            faults,
        }
    }

    pub fn record(&self, service: Service, outcome: Outcome) {
        let i = match outcome {
            Outcome::Processed => 0,
            Outcome::Rejected => 1,
            Outcome::Failed => 2,
        };
        self.counters[service as usize][i].inc();
    }

    pub fn fault(&self, service: Service, fault: Fault) {
        let kind = match fault {
            Fault::Error => "error",
            Fault::Drop => "drop",
            Fault::Malformed => "malformed",
        };
        self.faults
            .get_or_create(&[("service", service.name()), ("kind", kind)])
            .inc();
    }

    /// The processed count of one service (for logs and tests).
    pub fn processed(&self, service: Service) -> u64 {
        self.counters[service as usize][0].get()
    }

    /// OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Binds the metrics listener; split from [`serve_metrics`] so the caller
/// learns the bound address (port 0) before serving starts.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {addr}: {e}"))
}

/// Answers every connection with the current counters until shutdown.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped(&mut shutdown) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        if let Err(e) = respond(stream, &metrics).await {
                            tracing::debug!("metrics request failed: {e}");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("metrics accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

async fn respond(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        std::io::Result::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(5), read_head)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request head"))??;
    let body = metrics.render();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_service_labels() {
        let m = Metrics::new();
        m.record(Service::Broadcast, Outcome::Processed);
        m.record(Service::Broadcast, Outcome::Processed);
        m.record(Service::Gatekeeper, Outcome::Rejected);
        m.fault(Service::Gatekeeper, Fault::Error);
        let text = m.render();
        assert!(
            text.contains("chat_testbed_processed_total{service=\"broadcast\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("chat_testbed_rejected_total{service=\"gatekeeper\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("chat_testbed_failed_total{service=\"history\"} 0"),
            "{text}"
        );
        assert!(text.contains(
            "chat_testbed_faults_injected_total{service=\"gatekeeper\",kind=\"error\"} 1"
        ));
        assert_eq!(m.processed(Service::Broadcast), 2);
    }

    #[tokio::test]
    async fn http_responder_serves_the_text() {
        let m = Arc::new(Metrics::new());
        m.record(Service::History, Outcome::Processed);
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = watch::channel(false);
        let server = tokio::spawn(serve_metrics(listener, m, rx));
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK"));
        assert!(text.contains("chat_testbed_processed_total{service=\"history\"} 1"));
        stop.send(true).unwrap();
        server.await.unwrap();
    }
}
