//! The plugin's options, declared once, checked at start: every error is one
//! line that names the option.

use std::time::Duration;

use chat_fixtures::HistoryPreset;
use loadgen_plugin_api::options;
use loadgen_plugin_api::sdk::{Parsed, Positive};

use crate::mix::Mix;

/// `mix` keys, in series order (`wire::HISTORY`, `wire::THREAD`).
pub const ENDPOINTS: [&str; 2] = ["history", "thread"];
/// `before_mode` keys: `open` (index 0) and `scrollback`.
pub const BEFORE_MODES: [&str; 2] = ["open", "scrollback"];
pub const SCROLLBACK: usize = 1;

options! {
    pub struct HistoryOptions {
        /// history fixtures: history-small | history-medium | history-large (must match the server's)
        preset: Parsed<HistoryPreset> = "history-small",
        /// endpoint weights, key:weight over history, thread
        mix: String = "history:80,thread:20",
        /// history reads: open (newest page) vs scrollback (the next page of a chain an open read started)
        before_mode: String = "open:70,scrollback:30",
        /// pages a scrollback chain follows the previous page's oldest createdAt
        scrollback_pages: Positive<u32> = "5",
        /// `limit` of every history and thread request
        page_limit: Positive<u32> = "20",
        /// how long a request waits for its reply (Timeout after that)
        request_timeout: Positive<Duration> = "5s",
        /// requests awaiting replies beyond which new ops are refused (saturation)
        max_in_flight: Positive<usize> = "10000",
        /// site id in subjects (default: $SITE_ID, else site-local)
        site: String = "",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub preset: HistoryPreset,
    /// Which endpoint an op reads.
    pub mix: Mix<2>,
    /// For history reads: the newest page, or the next page of a scrollback chain.
    pub before_mode: Mix<2>,
    /// Pages a scrollback chain reads after the page that opened it.
    pub scrollback_pages: u32,
    pub page_limit: u32,
    /// How long a request may wait for its reply, from when it was sent.
    pub request_timeout: Duration,
    pub max_in_flight: usize,
    pub site: String,
}

impl Config {
    pub fn from_options(o: &HistoryOptions, env_site: Option<String>) -> Result<Config, String> {
        let site =
            chat_fixtures::site_id(&o.site, env_site).map_err(|e| format!("option 'site': {e}"))?;
        Ok(Config {
            preset: o.preset.get(),
            mix: Mix::parse("mix", &o.mix, ENDPOINTS)?,
            before_mode: Mix::parse("before_mode", &o.before_mode, BEFORE_MODES)?,
            scrollback_pages: o.scrollback_pages.get(),
            page_limit: o.page_limit.get(),
            request_timeout: o.request_timeout.get(),
            max_in_flight: o.max_in_flight.get(),
            site,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use loadgen_plugin_api::sdk::PluginOptions;

    fn options(pairs: &[(&str, &str)]) -> Result<HistoryOptions, String> {
        let given = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HistoryOptions::resolve("history", &given)
    }

    #[test]
    fn defaults() {
        let c = Config::from_options(&options(&[]).unwrap(), None).unwrap();
        assert_eq!(c.preset, HistoryPreset::Small);
        assert_eq!(
            c.mix,
            Mix::parse("", "history:80,thread:20", ENDPOINTS).unwrap()
        );
        assert_eq!(
            c.before_mode,
            Mix::parse("", "open:70,scrollback:30", BEFORE_MODES).unwrap()
        );
        assert_eq!(
            (
                c.scrollback_pages,
                c.page_limit,
                c.request_timeout,
                c.max_in_flight
            ),
            (5, 20, Duration::from_secs(5), 10_000)
        );
        assert_eq!(c.site, "site-local");
        let c = Config::from_options(&options(&[]).unwrap(), Some("eu-1".into())).unwrap();
        assert_eq!(c.site, "eu-1");
        let c = Config::from_options(&options(&[("site", "us-2")]).unwrap(), Some("eu-1".into()))
            .unwrap();
        assert_eq!(c.site, "us-2", "the option beats $SITE_ID");
    }

    #[test]
    fn good_values() {
        let c = Config::from_options(
            &options(&[
                ("preset", "history-large"),
                ("mix", "thread:1"),
                ("before_mode", "scrollback:1"),
                ("request_timeout", "250ms"),
                ("max_in_flight", "1"),
            ])
            .unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(c.preset, HistoryPreset::Large);
        assert!(!c.mix.includes(0) && c.mix.includes(1));
        assert!(!c.before_mode.includes(0), "never open");
        assert_eq!(c.request_timeout, Duration::from_millis(250));
        assert_eq!(c.max_in_flight, 1);
    }

    #[test]
    fn bad_values_are_named() {
        let table: &[(&str, &str, &str)] = &[
            (
                "preset",
                "small",
                "option 'preset': unknown preset `small` (valid: history-small, ",
            ),
            (
                "mix",
                "history:80,chat:20",
                "option 'mix': unknown key 'chat'",
            ),
            (
                "mix",
                "history:0",
                "option 'mix': the weight of 'history' must be a whole number > 0",
            ),
            (
                "before_mode",
                "open:70;scrollback:30",
                "option 'before_mode': the weight of 'open' must be a whole number > 0",
            ),
            (
                "before_mode",
                "latest:1",
                "option 'before_mode': unknown key 'latest' (valid: open, scrollback)",
            ),
            (
                "scrollback_pages",
                "0",
                "option 'scrollback_pages' must be > 0",
            ),
            (
                "scrollback_pages",
                "-1",
                "option 'scrollback_pages': '-1' is not a whole number",
            ),
            ("page_limit", "0", "option 'page_limit' must be > 0"),
            (
                "page_limit",
                "many",
                "option 'page_limit': 'many' is not a whole number",
            ),
            (
                "request_timeout",
                "0s",
                "option 'request_timeout' must be > 0",
            ),
            (
                "request_timeout",
                "5",
                "option 'request_timeout': '5' is not a duration",
            ),
            ("max_in_flight", "0", "option 'max_in_flight' must be > 0"),
            (
                "site",
                "a.b",
                "option 'site': 'a.b' cannot be a NATS subject token",
            ),
            (
                "site",
                "a b",
                "option 'site': 'a b' cannot be a NATS subject token",
            ),
        ];
        for (key, value, want) in table {
            let err = options(&[(key, value)])
                .and_then(|o| Config::from_options(&o, None))
                .unwrap_err();
            assert!(err.starts_with(want), "{key}={value}: {err}");
            assert!(!err.contains('\n'), "{key}={value}: one line: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = options(&[("limit", "5")]).unwrap_err();
        assert!(
            err.starts_with("unknown option 'limit' for plugin history (valid: preset, mix, "),
            "{err}"
        );
    }
}
