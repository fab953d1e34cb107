//! Connecting to NATS the way every loadgen component does (feature `nats`):
//! `$NATS_URL`, `$NATS_CREDS_FILE`, bounded connect, reconnect forever after a
//! drop, errors that never show credentials; and [`ConnectionWatch`], which
//! tells the host when the connection was lost (a disturbance, not a verdict).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};

use super::Recorder;
use crate::abi::MonoNanos;

use super::nats_env::{nats_creds_file, nats_url};
use loadgen_redact::redact_url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect as `name`; `configure` adds the caller's own options (event
/// callback, subscription capacity, request timeout …).
pub async fn connect(
    name: &str,
    configure: impl FnOnce(ConnectOptions) -> ConnectOptions,
) -> Result<Client, String> {
    connect_to(&nats_url(), name, configure).await
}

/// [`connect`] to `url` rather than `$NATS_URL` (credentials still from
/// `$NATS_CREDS_FILE`).
pub async fn connect_to(
    url: &str,
    name: &str,
    configure: impl FnOnce(ConnectOptions) -> ConnectOptions,
) -> Result<Client, String> {
    let mut options = ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5));
    if let Some(path) = nats_creds_file() {
        // The path may be shown; what is in the file never is.
        options = options.credentials_file(&path).await.map_err(|e| {
            format!(
                "cannot use NATS_CREDS_FILE {}: {}",
                path.display(),
                e.kind()
            )
        })?;
    }
    let options = configure(options);
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect(url)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(format!("cannot reach NATS at {}: {e}", redact_url(url))),
        Err(_) => Err(format!(
            "cannot reach NATS at {}: no answer in {CONNECT_TIMEOUT:?}",
            redact_url(url)
        )),
    }
}

/// While the connection stays down, the host hears about it this often, so a
/// step that begins and ends inside an outage is disturbed too.
pub const STILL_DOWN_EVERY: Duration = Duration::from_secs(1);

/// Reports connection trouble to the host as disturbances
/// ([`Recorder::disturbed`]): a lost connection, every [`STILL_DOWN_EVERY`]
/// while it stays lost, the reconnection, a server going into lame-duck mode.
/// Feed it every client event from the connection's event callback:
///
/// ```ignore
/// let watch = ConnectionWatch::new(ctx.recorder.clone());
/// connect("my-plugin", move |o| o.event_callback(move |event| {
///     watch.on_event(&event);
///     async {}
/// }))
/// ```
///
/// Call it from the plugin's runtime (the event callback runs there).
#[derive(Clone)]
pub struct ConnectionWatch {
    recorder: Recorder,
    state: Arc<Mutex<ConnectionState>>,
}

impl ConnectionWatch {
    pub fn new(recorder: Recorder) -> ConnectionWatch {
        ConnectionWatch {
            recorder,
            state: Arc::default(),
        }
    }

    pub fn on_event(&self, event: &Event) {
        let now = crate::clock::now();
        let (reason, went_down) = {
            let mut state = self.lock();
            let was_up = state.lost_at.is_none();
            (state.on(event, now), was_up && state.lost_at.is_some())
        };
        if let Some(reason) = reason {
            self.recorder.disturbed_at(now, &reason);
        }
        if went_down {
            self.remind_while_down();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ConnectionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Until the connection is back, say every second that it is still down.
    fn remind_while_down(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let watch = self.clone();
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(STILL_DOWN_EVERY).await;
                let now = crate::clock::now();
                let reason = watch.lock().still_down(now);
                match reason {
                    Some(reason) => watch.recorder.disturbed_at(now, &reason),
                    None => return,
                }
            }
        });
    }
}

/// The connection's state as its events tell it; each method returns the
/// disturbance to report, if any. Times in `CLOCK_MONOTONIC` nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionState {
    /// When the connection was lost, while it is.
    lost_at: Option<MonoNanos>,
}

impl ConnectionState {
    pub fn on(&mut self, event: &Event, now: MonoNanos) -> Option<String> {
        match event {
            Event::Disconnected => {
                // One outage may bring several; the first one dates it.
                let first = self.lost_at.is_none();
                let since = *self.lost_at.get_or_insert(now);
                Some(if first {
                    "connection lost: disconnected from NATS".to_string()
                } else {
                    format!(
                        "connection lost: still disconnected after {}",
                        secs(now, since)
                    )
                })
            }
            Event::Connected => self.lost_at.take().map(|since| {
                format!(
                    "connection lost: disconnected from NATS for {}, reconnected",
                    secs(now, since)
                )
            }),
            Event::LameDuckMode => {
                Some("server going away: NATS entered lame-duck mode".to_string())
            }
            Event::Closed => Some("connection lost: closed".to_string()),
            _ => None,
        }
    }

    /// The reminder while down; `None` once reconnected.
    pub fn still_down(&self, now: MonoNanos) -> Option<String> {
        self.lost_at.map(|since| {
            format!(
                "connection lost: still disconnected after {}",
                secs(now, since)
            )
        })
    }
}

fn secs(now: MonoNanos, since: MonoNanos) -> String {
    format!("{:.1}s", now.since(since) as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn an_outage_is_reported_when_it_begins_while_it_lasts_and_when_it_ends() {
        let mut state = ConnectionState::default();
        let table: [(Event, u64, Option<&str>); 6] = [
            // The first connection is no disturbance.
            (Event::Connected, 0, None),
            (Event::SlowConsumer(1), S, None),
            (
                Event::Disconnected,
                10 * S,
                Some("connection lost: disconnected from NATS"),
            ),
            (
                Event::Disconnected,
                11 * S,
                Some("connection lost: still disconnected after 1.0s"),
            ),
            (
                Event::Connected,
                13 * S + S / 2,
                Some("connection lost: disconnected from NATS for 3.5s, reconnected"),
            ),
            (Event::Connected, 20 * S, None),
        ];
        for (event, at, want) in table {
            assert_eq!(
                state.on(&event, MonoNanos(at)).as_deref(),
                want,
                "{event} at {at}"
            );
        }
    }

    #[test]
    fn the_reminder_stops_once_reconnected() {
        let mut state = ConnectionState::default();
        state.on(&Event::Disconnected, MonoNanos(S));
        assert_eq!(
            state.still_down(MonoNanos(3 * S)).as_deref(),
            Some("connection lost: still disconnected after 2.0s")
        );
        state.on(&Event::Connected, MonoNanos(4 * S));
        assert_eq!(state.still_down(MonoNanos(5 * S)), None);
    }
}
