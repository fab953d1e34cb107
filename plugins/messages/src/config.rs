//! The plugin's options, declared once, checked at start.

use chat_fixtures::MessagePreset;
use loadgen_plugin_api::sdk::{Parsed, Positive};
use loadgen_plugin_api::{option_choice, options};

option_choice! {
    /// How messages enter the system.
    pub enum Inject {
        /// The client path: SendMessageRequest to the gatekeeper; E1 and E2.
        Frontdoor = "frontdoor",
        /// JetStream publish of the canonical MessageEvent (bypasses the gatekeeper); E2 only.
        Canonical = "canonical",
    }
}

options! {
    pub struct MessagesOptions {
        /// fixtures: small | medium | large | realistic (must match the server's)
        preset: Parsed<MessagePreset> = "medium",
        /// frontdoor (gatekeeper; E1+E2) | canonical (JetStream publish; E2 only)
        inject: Inject = "frontdoor",
        /// ops awaiting their answers beyond which new ops are refused (saturation)
        max_in_flight: Positive<usize> = "100000",
        /// site id in subjects and stream names (default: $SITE_ID, else site-local)
        site: String = "",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub preset: MessagePreset,
    pub inject: Inject,
    pub max_in_flight: usize,
    pub site: String,
}

impl Config {
    pub fn from_options(o: &MessagesOptions, env_site: Option<String>) -> Result<Config, String> {
        let site =
            chat_fixtures::site_id(&o.site, env_site).map_err(|e| format!("option 'site': {e}"))?;
        Ok(Config {
            preset: o.preset.get(),
            inject: o.inject,
            max_in_flight: o.max_in_flight.get(),
            site,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen_plugin_api::sdk::PluginOptions;

    fn options(pairs: &[(&str, &str)]) -> Result<MessagesOptions, String> {
        MessagesOptions::from_pairs(pairs)
    }

    #[test]
    fn defaults() {
        let c = Config::from_options(&options(&[]).unwrap(), None).unwrap();
        assert_eq!(
            c,
            Config {
                preset: MessagePreset::Medium,
                inject: Inject::Frontdoor,
                max_in_flight: 100_000,
                site: "site-local".into()
            }
        );
        let c = Config::from_options(&options(&[]).unwrap(), Some("eu-1".into())).unwrap();
        assert_eq!(c.site, "eu-1");
    }

    #[test]
    fn bad_values_are_named() {
        let table: &[(&str, &str, &str)] = &[
            ("preset", "huge", "option 'preset': "),
            (
                "inject",
                "side",
                "option 'inject': 'side' is not one of frontdoor|canonical",
            ),
            ("max_in_flight", "0", "option 'max_in_flight' must be > 0"),
            (
                "site",
                "a.b",
                "option 'site': 'a.b' cannot be a NATS subject token",
            ),
        ];
        for (key, value, want) in table {
            let err = options(&[(key, value)])
                .and_then(|o| Config::from_options(&o, None))
                .unwrap_err();
            assert!(err.starts_with(want), "{key}={value}: {err}");
        }
    }
}
