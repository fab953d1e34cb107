//! [`Slots`]: the `max_in_flight` bound. An op holds a [`Slot`] from `fire`
//! until its sample is recorded; when all are taken, `fire` refuses the op
//! (saturation) instead of queueing it, so the generator stays open-loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
pub struct Slots {
    taken: Arc<AtomicUsize>,
    max: usize,
}

/// One op's claim; released on drop (also if its task is cancelled).
#[derive(Debug)]
pub struct Slot {
    taken: Arc<AtomicUsize>,
}

impl Slots {
    pub fn new(max: usize) -> Slots {
        Slots {
            taken: Arc::default(),
            max,
        }
    }

    /// A slot, or `None` when `max` ops are in flight.
    pub fn try_take(&self) -> Option<Slot> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot {
                taken: Arc::clone(&self.taken),
            })
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.taken.load(Ordering::Acquire)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_refuses_until_a_slot_is_released() {
        let slots = Slots::new(2);
        let a = slots.try_take().unwrap();
        let _b = slots.try_take().unwrap();
        assert!(slots.try_take().is_none());
        assert_eq!(slots.in_flight(), 2);
        drop(a);
        assert!(slots.try_take().is_some());
        assert_eq!(slots.in_flight(), 1, "the temporary slot was released too");
    }
}
