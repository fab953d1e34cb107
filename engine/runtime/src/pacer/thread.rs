//! The pacer's own OS thread: it sleeps with `clock_nanosleep` until absolute
//! `CLOCK_MONOTONIC` deadlines and fires each op at its intended time (small
//! batches at high rates). tokio timers are millisecond-grained (`sleep(1ms)`
//! ≈ 2 ms), which put ≈1 ms of the pacer's lateness into every latency figure.
//!
//! A workload that fires ahead (every SDK plugin but those answering inside
//! `fire`) is instead handed each wake-up's batch up to [`AHEAD_MAX`] early,
//! about every [`AHEAD_MIN`](super::schedule::AHEAD_MIN); the plugin's runtime sleeps to each batch's time
//! and fires it there, and reports what it fired into the workload's
//! [`AheadTally`](crate::plugin::AheadTally). The thread then wakes 40 times
//! a second whatever the rate, and an op costs one wake-up, not two.
//!
//! The actor talks to the thread over a channel; the thread owns the schedule
//! and the tallies and answers `Report` itself, so nothing is shared. The
//! thread ends when the actor's sender is dropped (actor stopped or restarted):
//! it checks for that before every release, so a dead actor's thread never
//! fires another op.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use loadgen_plugin_api::clock;
use ractor::RpcReplyPort;

use super::schedule::{Schedule, Slice, StepTimes, AHEAD_MAX};
use super::PacerCounts;
use crate::plugin::Workload;

/// Waits longer than this are spent listening for commands, and only the last
/// stretch in `clock_nanosleep`: a `Halt` or `Report` never waits for a far
/// deadline, and the precise sleep is short.
const PRECISE_SLEEP: Duration = Duration::from_millis(2);

pub enum Command {
    Start(StepTimes, Slice),
    Halt,
    Report(RpcReplyPort<PacerCounts>),
}

/// The actor's handle: dropping it ends the thread.
pub struct PacerThread {
    commands: Sender<Command>,
}

impl PacerThread {
    pub fn spawn(workload: Arc<Workload>, window: Duration) -> std::io::Result<PacerThread> {
        let (commands, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("loadgen-pacer".into())
            .spawn(move || Pacing::new(workload, window).run(rx))?;
        Ok(PacerThread { commands })
    }

    /// Fails only if the thread is gone (it panicked).
    pub fn send(&self, command: Command) -> Result<(), String> {
        self.commands
            .send(command)
            .map_err(|_| "pacer thread has stopped".to_string())
    }
}

struct Pacing {
    workload: Arc<Workload>,
    /// The shortest gap between wake-ups the run allows (from its SLO).
    window: Duration,
    schedule: Option<Schedule>,
    counts: PacerCounts,
    /// The deadline of the last release (the batch window counts from it).
    /// The deadline, not when the thread actually woke: counting from a late
    /// wake-up would carry its lateness into every later one (at a rate of
    /// one op per window, ops would stay a window late).
    last_wake: u64,
    /// Log a failing `fire` once per step, not per wake-up.
    fire_error_logged: bool,
}

impl Pacing {
    fn new(workload: Arc<Workload>, window: Duration) -> Pacing {
        Pacing {
            window,
            schedule: None,
            counts: PacerCounts::default(),
            last_wake: 0,
            fire_error_logged: false,
            workload,
        }
    }

    /// When the thread must next act: the next wake-up's deadline, or (ahead)
    /// when the next batch not yet handed is
    /// [`AHEAD_MIN`](super::schedule::AHEAD_MIN) away.
    fn next_wake(&self) -> Option<u64> {
        let schedule = self.schedule.as_ref()?;
        match self.workload.fires_ahead() {
            true => schedule.next_hand_ahead(self.last_wake),
            false => schedule.next_wake(self.last_wake),
        }
    }

    /// Until the actor's sender is dropped; then what was handed ahead and
    /// not yet fired is dropped too (a restarted pacer's new thread must not
    /// meet its predecessor's ops).
    fn run(mut self, commands: Receiver<Command>) {
        reduce_timer_slack();
        self.pace(&commands);
        self.discard_ahead();
    }

    fn pace(&mut self, commands: &Receiver<Command>) {
        loop {
            let Some(wake) = self.next_wake() else {
                // Idle: nothing to release until the next command.
                match commands.recv() {
                    Ok(command) => self.handle(command),
                    Err(_) => return,
                }
                continue;
            };
            let now = clock::now().0;
            let precise = PRECISE_SLEEP.as_nanos() as u64;
            let received = if wake > now + precise {
                match commands.recv_timeout(Duration::from_nanos(wake - now - precise)) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                sleep_until(wake);
                match commands.try_recv() {
                    Ok(command) => Some(command),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            };
            match received {
                Some(command) => self.handle(command),
                None => self.release(wake),
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Start(times, slice) => {
                self.discard_ahead();
                self.counts = PacerCounts::default();
                let schedule = Schedule::sliced(times, slice).min_window(self.window);
                self.workload.ahead_tally().restart(schedule.hold_first());
                self.schedule = Some(schedule);
                self.last_wake = 0;
                self.fire_error_logged = false;
            }
            Command::Halt => {
                self.schedule = None;
                self.discard_ahead();
            }
            Command::Report(reply) => {
                let mut counts = self.counts;
                counts.add(&self.workload.ahead_tally().counts());
                let _ = reply.send(counts);
            }
        }
    }

    /// Drop what was handed ahead and not yet fired (it is nobody's now).
    fn discard_ahead(&self) {
        if self.workload.fires_ahead() {
            if let Err(e) = self.workload.discard_ahead() {
                tracing::warn!("plugin discard_ahead failed: {e}");
            }
        }
    }

    /// Release what is due now, after sleeping until `deadline`.
    fn release(&mut self, deadline: u64) {
        let Some(schedule) = self.schedule.as_mut() else {
            return;
        };
        let now = clock::now().0;
        let release = if self.workload.fires_ahead() {
            let until = now + AHEAD_MAX.as_nanos() as u64;
            schedule.release_ahead(now, until, &mut self.last_wake)
        } else {
            self.last_wake = deadline;
            schedule.release(now)
        };
        self.counts.emit_underrun += release.underrun_in_hold;
        for batch in release.batches {
            let in_hold = schedule.is_hold_batch(&batch);
            let fired = match self.workload.fires_ahead() {
                // Counted when the plugin reports it fired (its tally).
                true => self.workload.fire_ahead(batch).map(|()| None),
                false => self.workload.fire(batch).map(Some),
            };
            let (accepted, saturated) = match fired {
                Ok(None) => continue,
                Ok(Some(ack)) => (ack.accepted as u64, ack.saturated as u64),
                Err(e) => {
                    if !self.fire_error_logged {
                        tracing::warn!("plugin fire failed: {e}");
                        self.fire_error_logged = true;
                    }
                    if in_hold {
                        self.counts.fire_errors += batch.count as u64;
                    }
                    (batch.count as u64, 0)
                }
            };
            if in_hold {
                self.counts.accepted += accepted;
                self.counts.saturated += saturated;
            }
        }
    }
}

/// Sleep until the absolute `CLOCK_MONOTONIC` time `deadline_ns`.
fn sleep_until(deadline_ns: u64) {
    let ts = clock::timespec(deadline_ns);
    loop {
        // SAFETY: `ts` is a valid timespec; the remainder pointer may be null
        // with TIMER_ABSTIME.
        let rc = unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &ts,
                std::ptr::null_mut(),
            )
        };
        // A signal interrupts the sleep (EINTR); the deadline is absolute, so
        // sleeping again loses nothing.
        if rc != libc::EINTR {
            return;
        }
    }
}

/// Linux lets a sleeping thread's wake-up slip by its timer slack (50 µs by
/// default) to merge wake-ups; that slack would be half the pacer's budget.
fn reduce_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and affects only
    // the calling thread; failure just keeps the default slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}
