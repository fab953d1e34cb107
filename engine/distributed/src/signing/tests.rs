use super::*;

fn pair() -> (ControlKey, ControlKey, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (key, public) = keygen(dir.path()).expect("keygen");
    (
        ControlKey::load(&key, Side::Coordinator).expect("control.key"),
        ControlKey::load(&public, Side::Agent).expect("control.pub"),
        dir,
    )
}

const S: u64 = 1_000_000_000;

#[test]
fn keygen_writes_private_files_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path()).unwrap();
    for path in [&key, &public] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    assert!(keygen(dir.path()).unwrap_err().contains("exists"));
}

#[test]
fn each_side_needs_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path()).unwrap();
    let err = ControlKey::load(&key, Side::Agent).unwrap_err();
    assert!(err.contains("give this side control.pub"), "{err}");
    let err = ControlKey::load(&public, Side::Coordinator).unwrap_err();
    assert!(err.contains("give this side control.key"), "{err}");
    assert!(ControlKey::parse("hello\n", Side::Agent).is_err());
}

#[test]
fn the_gate_refuses_unsigned_other_key_replayed_and_stale() {
    let (coordinator, agent, _dir) = pair();
    let (other, _, _other_dir) = pair();
    let mut gate = Gate::new(Arc::new(agent));
    let subject = "loadgen.agent.a1.start";
    let now = 1_700_000_000 * S;
    let body = br#"{"plugin":"http"}"#;

    let signed = coordinator.sign(subject, body, now);
    assert_eq!(gate.admit(subject, Some(&signed), body, now + S), Ok(()));
    // The same message again: replayed.
    assert_eq!(
        gate.admit(subject, Some(&signed), body, now + 2 * S),
        Err(Refusal::Replayed)
    );
    assert_eq!(gate.admit(subject, None, body, now), Err(Refusal::Unsigned));
    let forged = other.sign(subject, body, now);
    assert_eq!(
        gate.admit(subject, Some(&forged), body, now),
        Err(Refusal::OtherKey)
    );
    // Signed bytes are exact: another payload or subject does not match.
    let fresh = coordinator.sign(subject, body, now);
    assert_eq!(
        gate.admit(subject, Some(&fresh), br#"{"plugin":"nats"}"#, now),
        Err(Refusal::OtherKey)
    );
    assert_eq!(
        gate.admit("loadgen.agent.a2.start", Some(&fresh), body, now),
        Err(Refusal::OtherKey)
    );
    let old = coordinator.sign(subject, body, now - 31 * S);
    assert_eq!(
        gate.admit(subject, Some(&old), body, now),
        Err(Refusal::Stale {
            age_ns: 31 * S as i64
        })
    );
    let ahead = coordinator.sign(subject, body, now + 40 * S);
    assert!(matches!(
        gate.admit(subject, Some(&ahead), body, now),
        Err(Refusal::Stale { age_ns }) if age_ns < 0
    ));
    let late_but_in_window = coordinator.sign(subject, body, now - 29 * S);
    assert_eq!(
        gate.admit(subject, Some(&late_but_in_window), body, now),
        Ok(())
    );
}

#[test]
fn agents_sign_answers_the_coordinator_verifies() {
    let (coordinator, agent, _dir) = pair();
    let reply = "_INBOX.abc.1";
    let headers = agent.sign(reply, b"{\"Ok\":5}", 7);
    assert_eq!(
        coordinator
            .verify(reply, Some(&headers), b"{\"Ok\":5}")
            .map(|s| s.sent_ns),
        Ok(7)
    );
    // An answer signed with the coordinator's own key is not an agent's.
    let headers = coordinator.sign(reply, b"{\"Ok\":5}", 7);
    assert_eq!(
        coordinator.verify(reply, Some(&headers), b"{\"Ok\":5}"),
        Err(Refusal::OtherKey)
    );
}

#[test]
fn refusals_read_as_one_reason() {
    assert_eq!(
        Refusal::Stale {
            age_ns: 45 * S as i64
        }
        .to_string(),
        "stale (sent 45.0s ago, window 30s)"
    );
    assert_eq!(
        Refusal::Replayed.to_string(),
        "replayed (its nonce was seen)"
    );
}
