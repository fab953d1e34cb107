//! Polling with a bound, instead of fixed sleeps: a condition is checked
//! every few milliseconds until it holds or the timeout passes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

const POLL: Duration = Duration::from_millis(25);

/// Waits until `cond` returns true; an error naming `what` after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, timeout, || {
        let check = cond();
        async move { check.await.then_some(()) }
    })
    .await
}

/// Waits until `probe` yields `Some(value)` and returns the value.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs a whole test body under a deadline, so a hung test fails instead
/// of stalling the suite.
pub async fn bounded<T>(
    limit: Duration,
    body: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(limit, body)
        .await
        .map_err(|_| anyhow::anyhow!("test exceeded its {limit:?} bound"))?
}

/// Holds the test binary's one timing slot: tests that judge latency
/// against a known capacity take it, so they do not share the 2 cores with
/// each other (the harness runs a file's tests two at a time).
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static SLOT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SLOT.lock().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn polls_until_true_or_times_out() {
        let calls = AtomicU32::new(0);
        wait_until("third call", Duration::from_secs(1), || async {
            calls.fetch_add(1, Ordering::Relaxed) >= 2
        })
        .await
        .unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        let err = wait_until("never", Duration::from_millis(100), || async { false })
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "timed out after 100ms waiting for never");
    }
}
