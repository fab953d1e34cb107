//! [`Settle`]: between steps, wait for the backlog a step left behind to drain.
//!
//! A step above capacity leaves a queue in the service (the generator stops
//! at hold end, the service does not). Started on top of it, the next step —
//! lower, when a search bisects after a TRIP — would be judged on the previous
//! step's queue: its ops wait behind thousands of old ones and it trips, or
//! loses everything, at a rate the service sustains. So before the next step
//! the ramp reads the backlogs until each is back to its idle level (read
//! before the first step) or no longer falling (stuck: waiting longer will not
//! help), within a time limit.

use crate::backlog::Backlogs;

/// The settle check: pure, fed one reading at a time.
#[derive(Clone, Debug)]
pub struct Settle {
    /// Each backlog's level before any load, if it could be read.
    idle: Option<Backlogs>,
    /// The previous reading of this wait.
    last: Option<Backlogs>,
}

impl Settle {
    pub fn new(idle: Option<Backlogs>) -> Settle {
        Settle { idle, last: None }
    }

    /// Has every backlog drained to its idle level, or stopped falling since
    /// the previous reading?
    pub fn settled(&mut self, now: Backlogs) -> bool {
        let done = now.iter().all(|(name, &v)| {
            let idle = self.idle.as_ref().and_then(|i| i.get(name));
            let previous = self.last.as_ref().and_then(|l| l.get(name));
            idle.is_some_and(|&i| v <= i) || previous.is_some_and(|&p| v >= p)
        });
        self.last = Some(now);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(pairs: &[(&str, i64)]) -> Backlogs {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn waits_while_a_backlog_drains_towards_idle() {
        // (idle, readings, settled after each reading)
        let table: &[(&str, Option<Backlogs>, &[Backlogs], &[bool])] = &[
            (
                "already idle",
                Some(b(&[("q", 0)])),
                &[b(&[("q", 0)])],
                &[true],
            ),
            (
                "drains to idle",
                Some(b(&[("q", 0)])),
                &[b(&[("q", 9000)]), b(&[("q", 4000)]), b(&[("q", 0)])],
                &[false, false, true],
            ),
            (
                "stuck above idle: stop waiting",
                Some(b(&[("q", 0)])),
                &[b(&[("q", 500)]), b(&[("q", 500)])],
                &[false, true],
            ),
            (
                "every backlog must be done",
                Some(b(&[("a", 0), ("b", 10)])),
                &[
                    b(&[("a", 0), ("b", 900)]),
                    b(&[("a", 0), ("b", 300)]),
                    b(&[("a", 0), ("b", 10)]),
                ],
                &[false, false, true],
            ),
            (
                "no idle reading: wait until it stops falling",
                None,
                &[b(&[("q", 900)]), b(&[("q", 20)]), b(&[("q", 20)])],
                &[false, false, true],
            ),
            ("no backlogs at all", None, &[b(&[])], &[true]),
            (
                "a backlog unknown at idle: stops falling",
                Some(b(&[])),
                &[b(&[("new", 5)]), b(&[("new", 7)])],
                &[false, true],
            ),
        ];
        for (name, idle, readings, want) in table {
            let mut s = Settle::new(idle.clone());
            let got: Vec<bool> = readings.iter().map(|r| s.settled(r.clone())).collect();
            assert_eq!(got, *want, "{name}");
        }
    }
}
