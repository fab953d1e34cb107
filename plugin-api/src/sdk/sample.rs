//! The sample builder: an op's intended and sent times travel together in a
//! [`Sent`], so the only time an author passes when the op ends is `done`.

use super::series::{Reason, Series};
use crate::abi::{MonoNanos, Op, Outcome, Sample};

/// An op that went out: when it was due and when it was actually sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub intended: MonoNanos,
    pub sent: MonoNanos,
}

impl Op {
    /// This op, sent at `sent` (usually `clock::now()` right before the send).
    pub fn sent_at(self, sent: MonoNanos) -> Sent {
        Sent {
            intended: self.intended,
            sent,
        }
    }
}

impl Sent {
    /// Answered correctly at `done`.
    pub fn ok(self, series: Series, done: MonoNanos) -> Sample {
        self.sample(series, Outcome::Ok, 0, done)
    }

    /// Answered with an error at `done`.
    pub fn error(self, series: Series, reason: Reason, done: MonoNanos) -> Sample {
        self.sample(series, Outcome::Error, reason.index(), done)
    }

    /// The plugin's own request timeout ended the wait at `done`.
    pub fn timeout(self, series: Series, done: MonoNanos) -> Sample {
        self.sample(series, Outcome::Timeout, 0, done)
    }

    /// Still unanswered at the loss deadline `deadline` (`intended + loss_timeout`).
    pub fn lost(self, series: Series, deadline: MonoNanos) -> Sample {
        self.sample(series, Outcome::Lost, 0, deadline)
    }

    /// How an [`Answer`] ends this op at `done`.
    pub fn answered(self, series: Series, answer: Answer, done: MonoNanos) -> Sample {
        match answer {
            Answer::Ok => self.ok(series, done),
            Answer::Error(reason) => self.error(series, reason, done),
            Answer::Timeout => self.timeout(series, done),
        }
    }

    fn sample(self, series: Series, outcome: Outcome, reason: u16, done: MonoNanos) -> Sample {
        Sample {
            series: series.index(),
            outcome,
            reason,
            intended: self.intended,
            sent: self.sent,
            done,
        }
    }
}

/// How an answered op ended (Lost is never an answer: it is what the loss
/// deadline records when no answer came).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    Ok,
    Error(Reason),
    Timeout,
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Series = Series::new(1, "s");
    const R: Reason = Reason::new(2, "r");

    #[test]
    fn each_outcome_keeps_intended_and_sent_apart_from_done() {
        let sent = Op {
            index: 0,
            intended: MonoNanos(10),
        }
        .sent_at(MonoNanos(15));
        let table = [
            (sent.ok(S, MonoNanos(30)), Outcome::Ok, 0),
            (sent.error(S, R, MonoNanos(30)), Outcome::Error, 2),
            (sent.timeout(S, MonoNanos(30)), Outcome::Timeout, 0),
            (sent.lost(S, MonoNanos(30)), Outcome::Lost, 0),
        ];
        for (sample, outcome, reason) in table {
            assert_eq!(
                sample,
                Sample {
                    series: 1,
                    outcome,
                    reason,
                    intended: MonoNanos(10),
                    sent: MonoNanos(15),
                    done: MonoNanos(30),
                }
            );
        }
    }
}
