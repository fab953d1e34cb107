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

/// `$NATS_CREDS_FILE`, if set. Its path may be shown; its contents never.
pub fn nats_creds_file() -> Option<std::path::PathBuf> {
    std::env::var_os("NATS_CREDS_FILE")
        .filter(|p| !p.is_empty())
        .map(Into::into)
}
