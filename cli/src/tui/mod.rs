//! The live terminal view of a `max-rps` run (ratatui on crossterm), shown
//! when stdout and stderr are both a terminal, unless `--no-tui` or `--quiet`.
//!
//! It runs on a thread of its own, fed by the reporter's [`LiveEvent`]s
//! (the engine's own figures, see `loadgen_runtime::reporter`); `q`, Esc or
//! Ctrl-C (raw mode turns it into a key) asks the run to stop like SIGINT.
//! The thread ends when the run drops its event sender, and restores the
//! terminal then; a panic restores it too (ratatui's hook), and SIGTERM
//! ends the run, hence the thread, the same way.

pub mod state;
pub mod view;

use std::io::IsTerminal;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use loadgen_core::config::RunConfig;
use loadgen_runtime::reporter::{LiveEvent, LiveSender};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use tokio::sync::oneshot;

use state::LiveState;

/// How often the view is redrawn with no event (phase countdowns).
const TICK: Duration = Duration::from_millis(250);

/// Whether a run shows the live view.
pub fn wanted(no_tui: bool, quiet: bool) -> bool {
    !no_tui && !quiet && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// A live view on the terminal.
pub struct LiveView {
    thread: JoinHandle<std::io::Result<()>>,
}

impl LiveView {
    /// Take over the terminal for a run of `config`. Returns the sender for
    /// the run's events and a receiver that fires when the user asks to quit.
    pub fn start(
        config: &RunConfig,
    ) -> std::io::Result<(LiveView, LiveSender, oneshot::Receiver<()>)> {
        let (events, rx) = mpsc::channel();
        let (quit_tx, quit_rx) = oneshot::channel();
        let state = LiveState::new(config.plan(), config.phases.clone());
        let terminal = ratatui::try_init()?;
        let thread = std::thread::Builder::new()
            .name("loadgen-tui".into())
            .spawn(move || {
                let result = show(terminal, state, rx, quit_tx);
                ratatui::restore();
                result
            })?;
        Ok((LiveView { thread }, events, quit_rx))
    }

    /// Wait until the run has dropped its sender and the terminal is back.
    pub fn finish(self) {
        match self.thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("live view: {e}"),
            // The panic hook has restored the terminal and said why.
            Err(_) => {}
        }
    }
}

fn show(
    mut terminal: ratatui::DefaultTerminal,
    mut state: LiveState,
    events: Receiver<LiveEvent>,
    quit: oneshot::Sender<()>,
) -> std::io::Result<()> {
    let began = Instant::now();
    let mut quit = Some(quit);
    loop {
        match events.recv_timeout(TICK) {
            Ok(event) => {
                state.on(event, began.elapsed());
                while let Ok(event) = events.try_recv() {
                    state.on(event, began.elapsed());
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        while event::poll(Duration::ZERO)? {
            if let Event::Key(key) = event::read()? {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                let quit_key = matches!(key.code, KeyCode::Char('q') | KeyCode::Esc);
                if key.kind == KeyEventKind::Press && (ctrl_c || quit_key) {
                    if let Some(quit) = quit.take() {
                        let _ = quit.send(());
                    }
                    state.stopping = true;
                }
            }
        }
        let now = began.elapsed();
        terminal.draw(|frame| view::draw(frame, &state, now))?;
    }
}

#[cfg(test)]
mod tests;
