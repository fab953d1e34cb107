//! [`Correlation`]: publish-mode ops waiting to see their message come back,
//! keyed by the id the plugin puts in a header. Ids are handed out in fire
//! order, so the oldest op is always first and the loss sweep stops at the
//! first op still within its deadline. Pure: the clock is an argument.

use std::collections::BTreeMap;

use loadgen_plugin_api::sdk::MonoNanos;

/// One op in flight: when it was due and when it went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub intended: MonoNanos,
    pub sent: MonoNanos,
}

#[derive(Debug)]
pub struct Correlation {
    waiting: BTreeMap<u64, Waiting>,
    next_id: u64,
    max: usize,
}

impl Correlation {
    pub fn new(max: usize) -> Correlation {
        Correlation {
            waiting: BTreeMap::new(),
            next_id: 0,
            max,
        }
    }

    /// A new op's id, or `None` when `max` ops are waiting (saturation).
    pub fn start(&mut self, op: Waiting) -> Option<u64> {
        if self.waiting.len() >= self.max {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(id, op);
        Some(id)
    }

    /// The op `id` ended (answered or failed); `None` if it is not waiting
    /// (already lost, or not one of ours).
    pub fn complete(&mut self, id: u64) -> Option<Waiting> {
        self.waiting.remove(&id)
    }

    /// Removes and returns every op whose loss deadline (`intended + after_ns`) has passed.
    pub fn expire(&mut self, now: MonoNanos, after_ns: u64) -> Vec<Waiting> {
        let mut lost = Vec::new();
        while let Some(entry) = self.waiting.first_entry() {
            if entry.get().intended.add_ns(after_ns) > now {
                break;
            }
            lost.push(entry.remove());
        }
        lost
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(intended: u64) -> Waiting {
        Waiting {
            intended: MonoNanos(intended),
            sent: MonoNanos(intended + 1),
        }
    }

    #[test]
    fn each_op_ends_once_answered_or_lost() {
        let mut c = Correlation::new(10);
        let ids: Vec<u64> = (0..4).map(|i| c.start(op(i * 100)).unwrap()).collect();
        assert_eq!(ids, vec![0, 1, 2, 3]);
        assert_eq!(c.complete(1), Some(op(100)));
        assert_eq!(c.complete(1), None, "a duplicate is not an answer");
        // Deadline 250 after intended: at 400 only op 0 (due 0..250) is lost.
        assert_eq!(c.expire(MonoNanos(400), 250), vec![op(0)]);
        assert_eq!(c.complete(0), None, "a late answer to a lost op is ignored");
        assert_eq!(c.expire(MonoNanos(600), 250), vec![op(200), op(300)]);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn the_bound_refuses_new_ops() {
        let mut c = Correlation::new(2);
        c.start(op(0)).unwrap();
        c.start(op(1)).unwrap();
        assert_eq!(c.start(op(2)), None);
        c.complete(0);
        assert_eq!(c.start(op(3)), Some(2));
    }
}
