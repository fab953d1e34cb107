//! The service tasks' stop signal: a `watch` flag the server sets once.

use tokio::sync::watch;

/// Completes once the stop flag is set. Wrapping `wait_for` keeps its
/// read guard out of the callers' futures, which must stay `Send`.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
