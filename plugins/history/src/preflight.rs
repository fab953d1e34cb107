//! Before the first step, against any server: a few real history reads as
//! fixture members. If most are refused as "not a member", the server's
//! fixtures differ from ours; if nobody listens at all, there is no history
//! service on this site. Either way, stop now with the likely cause rather
//! than ramp into a wall of errors. Slow or odd answers are the ramp's
//! business, not this check's.

use std::time::Duration;

use serde::Deserialize;

use crate::ops::{Ops, Read, SendError, Transport};

const TRIALS: u32 = 3;
const TRIAL_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn check<T: Transport>(ops: &Ops<T>) -> Result<(), String> {
    let f = &ops.fixtures;
    let trials = (0..TRIALS.min(f.room_count())).map(|room| {
        let (_, subject, payload) = ops.encode(&Read::Open {
            room,
            user: f.members(room)[0],
        });
        tokio::time::timeout(TRIAL_TIMEOUT, ops.transport.request(subject, payload))
    });
    let answers = futures::future::join_all(trials).await;
    let tried = answers.len();
    let mut refusals = Vec::new();
    let mut no_responders = 0;
    for answer in answers {
        match answer {
            Ok(Ok(reply)) => refusals.extend(membership_refusal(&reply)),
            Ok(Err(SendError::NoResponders)) => no_responders += 1,
            _ => {}
        }
    }
    let site = &ops.config.site;
    if no_responders == tried {
        return Err(format!(
            "no history service answers on chat.user.*.request.room.*.{site}.msg.history (no responders): \
             is the chat backend running, and is its site {site} (SITE_ID or -o site)?"
        ));
    }
    if refusals.len() * 2 > tried {
        return Err(format!(
            "{} of {tried} trial history reads by room members were refused (\"{}\"): the server's history \
             fixtures are not seeded, or were seeded with another preset/seed than this run's (preset {} seed {})",
            refusals.len(),
            refusals[0],
            f.preset().name(),
            f.seed()
        ));
    }
    Ok(())
}

/// The reason of an `{"error": …}` reply that says the reader is not in the room.
fn membership_refusal(reply: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    let reason = serde_json::from_slice::<Refusal>(reply).ok()?.error;
    (reason.contains("not a member") || reason.contains("not subscribed")).then_some(reason)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_fixtures::{HistoryFixtures, HistoryPreset};
    use loadgen_plugin_api::sdk::{InFlight, Limits};

    use super::*;
    use crate::config::{Config, HistoryOptions};
    use crate::fake::{Behaviour, Fake};

    /// Our fixtures are (history-small, 42); the fake serves `served`.
    fn ops(served: HistoryFixtures) -> Ops<Fake> {
        let config = Config::from_options(&HistoryOptions::default(), None).unwrap();
        let ours = HistoryFixtures::build(config.preset, 42, &config.site);
        let (recorder, _) = loadgen_plugin_api::testing::capture();
        let inflight = InFlight::new(Limits::new(1), Duration::from_secs(2), recorder);
        Ops::new(
            config,
            ours,
            Arc::default(),
            Fake::new(served),
            42,
            Arc::new(inflight),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn matching_fixtures_pass() {
        let o = ops(HistoryFixtures::build(
            HistoryPreset::Small,
            42,
            "site-local",
        ));
        assert_eq!(check(&o).await, Ok(()));
        assert_eq!(o.transport.seen().len(), 3);
        assert_eq!(
            o.tally.requests.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "trials are not ops"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_fixtures_stop_the_run_with_the_likely_cause() {
        let o = ops(HistoryFixtures::build(
            HistoryPreset::Small,
            7,
            "site-local",
        ));
        let err = check(&o).await.unwrap_err();
        assert!(
            err.contains("trial history reads by room members were refused"),
            "{err}"
        );
        assert!(err.contains("is not a member of room"), "{err}");
        assert!(err.ends_with("(preset history-small seed 42)"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn no_history_service_stops_the_run() {
        let o = ops(HistoryFixtures::build(
            HistoryPreset::Small,
            42,
            "site-local",
        ));
        o.transport.set(Behaviour::NoResponders);
        let err = check(&o).await.unwrap_err();
        assert!(
            err.starts_with(
                "no history service answers on chat.user.*.request.room.*.site-local.msg.history"
            ),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_or_faulty_services_are_left_to_the_ramp() {
        for behaviour in [
            Behaviour::Hang,
            Behaviour::Malformed,
            Behaviour::Error,
            Behaviour::Fail,
        ] {
            let o = ops(HistoryFixtures::build(
                HistoryPreset::Small,
                42,
                "site-local",
            ));
            o.transport.set(behaviour);
            assert_eq!(check(&o).await, Ok(()), "{behaviour:?}");
        }
    }
}
