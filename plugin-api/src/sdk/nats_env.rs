//! The NATS settings loadgen and its NATS plugins read from the environment
//! (SPEC §6), so every component agrees on defaults and on never showing
//! credentials.

/// `$NATS_URL`, or `nats://127.0.0.1:4222`.
pub fn nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into())
}

/// `host:port` of each server in `$NATS_URL` (comma-separated URLs; port
/// 4222 when none is given): where a NATS plugin sends, for `targets()`.
pub fn nats_targets() -> Vec<String> {
    targets_of(&nats_url())
}

fn targets_of(urls: &str) -> Vec<String> {
    urls.split(',')
        .map(|url| {
            let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            let authority = rest.split('/').next().unwrap_or_default();
            let has_port = authority
                .rsplit_once(':')
                .is_some_and(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                && !authority.ends_with(']');
            if has_port {
                authority.to_string()
            } else {
                format!("{authority}:4222")
            }
        })
        .collect()
}

/// `$NATS_CREDS_FILE`, if set. Its path may be shown; its contents never.
pub fn nats_creds_file() -> Option<std::path::PathBuf> {
    std::env::var_os("NATS_CREDS_FILE")
        .filter(|p| !p.is_empty())
        .map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nats_targets_are_host_and_port_of_each_url() {
        assert_eq!(targets_of("nats://127.0.0.1:4222"), ["127.0.0.1:4222"]);
        assert_eq!(targets_of("tls://u:p@nats.example"), ["nats.example:4222"]);
        assert_eq!(targets_of("nats://a:5000, nats://b"), ["a:5000", "b:4222"]);
        assert_eq!(targets_of("[::1]:4223"), ["[::1]:4223"]);
    }
}
