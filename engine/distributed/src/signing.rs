//! Signed control messages: only the holder of the control key can drive
//! the agents, and only the agents can answer.
//!
//! `loadgen keygen DIR` makes two ed25519 key pairs (NATS nkeys): the
//! coordinator's and the agents'. `DIR/control.key` (the coordinator's
//! `--control-key`) holds the coordinator's seed and the agents' public key;
//! `DIR/control.pub` (the agents' `--control-key`) holds the coordinator's
//! public key and the agents' seed. So a stolen `control.pub` lets one forge
//! an agent's answer, never drive an agent.
//!
//! A signed message carries three NATS headers: a nonce, its send time (wall
//! clock, ns since the Unix epoch) and the signature over the subject, the
//! nonce, the time and the exact payload bytes. An agent refuses a message
//! unsigned, signed by another key, replayed (nonce seen within the window)
//! or stale (sent more than [`WINDOW`] away from its own wall clock).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use nkeys::{KeyPair, KeyPairType};

/// How far a message's send time may be from the receiver's wall clock.
/// Boxes' clocks must agree within it (NTP keeps them within milliseconds).
pub const WINDOW: Duration = Duration::from_secs(30);

const NONCE: &str = "Loadgen-Nonce";
const SENT: &str = "Loadgen-Sent";
const SIGNATURE: &str = "Loadgen-Signature";

/// Which side of the control plane a key file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `max-rps --agents`: signs with the coordinator seed (`control.key`).
    Coordinator,
    /// `loadgen agent`: signs with the agents' seed (`control.pub`).
    Agent,
}

impl Side {
    /// The key type of the seed this side signs with.
    fn own_type(self) -> KeyPairType {
        match self {
            Side::Coordinator => KeyPairType::Operator,
            Side::Agent => KeyPairType::Server,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Side::Coordinator => "control.key",
            Side::Agent => "control.pub",
        }
    }
}

/// One side's keys: its own (to sign) and its peer's public key (to verify).
pub struct ControlKey {
    own: KeyPair,
    peer: KeyPair,
    /// Makes this process's nonces unique: its id and start time.
    nonce_prefix: String,
    sent: AtomicU64,
}

impl std::fmt::Debug for ControlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the seed.
        write!(f, "ControlKey(peer {})", self.peer.public_key())
    }
}

/// Write `DIR/control.key` and `DIR/control.pub` (mode 0600, both hold a seed).
pub fn keygen(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let coordinator = KeyPair::new(KeyPairType::Operator);
    let agents = KeyPair::new(KeyPairType::Server);
    let seed = |k: &KeyPair| k.seed().map_err(|e| format!("keygen: {e}"));
    let key = dir.join(Side::Coordinator.file());
    let public = dir.join(Side::Agent.file());
    for path in [&key, &public] {
        if path.exists() {
            return Err(format!(
                "{} exists: keygen never overwrites a key",
                path.display()
            ));
        }
    }
    write_secret(
        &key,
        &format!(
            "# loadgen coordinator control key (--control-key of max-rps --agents): keep it secret\n{}\n{}\n",
            seed(&coordinator)?,
            agents.public_key()
        ),
    )?;
    write_secret(
        &public,
        &format!(
            "# loadgen agent control key (--control-key of loadgen agent)\n{}\n{}\n",
            coordinator.public_key(),
            seed(&agents)?
        ),
    )?;
    Ok((key, public))
}

fn write_secret(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl ControlKey {
    /// Read `side`'s key file (`control.key` or `control.pub` of `keygen`).
    pub fn load(path: &Path, side: Side) -> Result<ControlKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--control-key {}: {e}", path.display()))?;
        ControlKey::parse(&text, side).map_err(|e| format!("--control-key {}: {e}", path.display()))
    }

    /// A key file's text: one seed (ours) and one public key (the peer's).
    pub fn parse(text: &str, side: Side) -> Result<ControlKey, String> {
        let mut own = None;
        let mut peer = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('S') {
                own = Some(KeyPair::from_seed(line).map_err(|e| format!("bad seed: {e}"))?);
            } else {
                peer = Some(
                    KeyPair::from_public_key(line).map_err(|e| format!("bad public key: {e}"))?,
                );
            }
        }
        let wrong = || {
            format!(
                "not a {} file of `loadgen keygen` (give this side {})",
                side.file(),
                side.file()
            )
        };
        let (Some(own), Some(peer)) = (own, peer) else {
            return Err(wrong());
        };
        let peer_side = match side {
            Side::Coordinator => Side::Agent,
            Side::Agent => Side::Coordinator,
        };
        if own.key_pair_type() != side.own_type() || peer.key_pair_type() != peer_side.own_type() {
            return Err(wrong());
        }
        Ok(ControlKey {
            own,
            peer,
            nonce_prefix: format!("{}-{}", std::process::id(), now_unix_ns()),
            sent: AtomicU64::new(0),
        })
    }

    /// The headers that sign `payload` on `subject`, sent at `sent_ns`.
    pub fn sign(&self, subject: &str, payload: &[u8], sent_ns: u64) -> HeaderMap {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        let nonce = format!("{}-{n}", self.nonce_prefix);
        let signature = self
            .own
            .sign(&signed_bytes(subject, &nonce, sent_ns, payload))
            .expect("a seed signs");
        let mut headers = HeaderMap::new();
        headers.insert(NONCE, nonce.as_str());
        headers.insert(SENT, sent_ns.to_string().as_str());
        headers.insert(SIGNATURE, B64.encode(signature).as_str());
        headers
    }

    /// Check `payload`'s signature by the peer; the nonce and send time.
    pub fn verify(
        &self,
        subject: &str,
        headers: Option<&HeaderMap>,
        payload: &[u8],
    ) -> Result<Stamp, Refusal> {
        let get = |name: &str| headers.and_then(|h| h.get(name)).map(|v| v.as_str());
        let (Some(nonce), Some(sent), Some(signature)) = (get(NONCE), get(SENT), get(SIGNATURE))
        else {
            return Err(Refusal::Unsigned);
        };
        let sent_ns: u64 = sent.parse().map_err(|_| Refusal::Unsigned)?;
        let signature = B64.decode(signature).map_err(|_| Refusal::OtherKey)?;
        self.peer
            .verify(&signed_bytes(subject, nonce, sent_ns, payload), &signature)
            .map_err(|_| Refusal::OtherKey)?;
        Ok(Stamp {
            nonce: nonce.to_string(),
            sent_ns,
        })
    }
}

/// What a signature covers: the subject, the nonce, the time, the exact bytes.
fn signed_bytes(subject: &str, nonce: &str, sent_ns: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = format!("{subject}\n{nonce}\n{sent_ns}\n").into_bytes();
    bytes.extend_from_slice(payload);
    bytes
}

/// A verified message's nonce and send time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub nonce: String,
    pub sent_ns: u64,
}

/// Why a control message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Unsigned,
    OtherKey,
    Replayed,
    /// Sent this far (ns) from the receiver's clock; positive: in the past.
    Stale {
        age_ns: i64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unsigned => write!(f, "unsigned"),
            Refusal::OtherKey => write!(f, "signed by another key"),
            Refusal::Replayed => write!(f, "replayed (its nonce was seen)"),
            Refusal::Stale { age_ns } => write!(
                f,
                "stale (sent {:.1}s {}, window {}s)",
                age_ns.unsigned_abs() as f64 / loadgen_core::pacer::NS_PER_SEC as f64,
                if *age_ns >= 0 { "ago" } else { "ahead" },
                WINDOW.as_secs()
            ),
        }
    }
}

/// The agent's gate: every request verified, each nonce accepted once.
pub struct Gate {
    pub key: Arc<ControlKey>,
    /// Nonces seen, with their send times (forgotten once out of the window:
    /// a replay of them is stale by then).
    seen: HashMap<String, u64>,
}

impl Gate {
    pub fn new(key: Arc<ControlKey>) -> Gate {
        Gate {
            key,
            seen: HashMap::new(),
        }
    }

    /// Admit a message received at `now_ns` (wall clock) or say why not.
    pub fn admit(
        &mut self,
        subject: &str,
        headers: Option<&HeaderMap>,
        payload: &[u8],
        now_ns: u64,
    ) -> Result<(), Refusal> {
        let stamp = self.key.verify(subject, headers, payload)?;
        let age_ns = now_ns as i64 - stamp.sent_ns as i64;
        if age_ns.unsigned_abs() > WINDOW.as_nanos() as u64 {
            return Err(Refusal::Stale { age_ns });
        }
        let oldest = now_ns.saturating_sub(WINDOW.as_nanos() as u64);
        if self.seen.len() > 1024 {
            self.seen.retain(|_, sent| *sent >= oldest);
        }
        if self.seen.insert(stamp.nonce, stamp.sent_ns).is_some() {
            return Err(Refusal::Replayed);
        }
        Ok(())
    }
}

/// The wall clock, ns since the Unix epoch (send times cross machines).
pub fn now_unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests;
