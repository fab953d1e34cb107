//! [`Slots`]: what both HTTP/1.1 pools share. HTTP/1.1 has no safe
//! pipelining, so a connection carries one request at a time: an op takes a
//! permit (one per connection; ops beyond `connections` wait for one, and that
//! wait is part of their latency), then the most recently used idle
//! connection, or opens one.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Slots<C> {
    connections: usize,
    /// One per connection: held by an op from before its checkout to its end.
    permits: Semaphore,
    /// Connections between requests, the most recently used last.
    idle: Mutex<Vec<C>>,
}

impl<C> Slots<C> {
    pub fn new(connections: usize) -> Slots<C> {
        Slots {
            connections,
            permits: Semaphore::new(connections),
            idle: Mutex::new(Vec::with_capacity(connections)),
        }
    }

    /// Waits for a connection's worth of room.
    pub async fn permit(&self) -> SemaphorePermit<'_> {
        match self.permits.acquire().await {
            Ok(permit) => permit,
            Err(_) => unreachable!("the pool's semaphore is never closed"),
        }
    }

    /// More than half the connections' room is not taken by an op.
    pub fn mostly_free(&self) -> bool {
        self.permits.available_permits() * 2 > self.connections
    }

    /// The most recently used idle connection.
    pub fn pop_idle(&self) -> Option<C> {
        self.lock_idle().pop()
    }

    /// A connection whose answer was read whole, ready for the next request.
    pub fn push_idle(&self, conn: C) {
        self.lock_idle().push(conn);
    }

    fn lock_idle(&self) -> MutexGuard<'_, Vec<C>> {
        // A panic while holding the lock cannot leave the Vec inconsistent.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_most_recently_returned_connection_goes_first_and_permits_bound_the_count() {
        let slots = Slots::new(2);
        slots.push_idle("a");
        slots.push_idle("b");
        assert_eq!(slots.pop_idle(), Some("b"));
        assert_eq!(slots.pop_idle(), Some("a"));
        assert_eq!(slots.pop_idle(), None);
        let first = slots.permit().await;
        let _second = slots.permit().await;
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), slots.permit())
                .await
                .is_err(),
            "a third op waits for a connection"
        );
        drop(first);
        let _third = slots.permit().await;
    }
}
