//! Request and message ids that carry the op's sequence number, so a reply
//! or broadcast finds its op with one parse and one map lookup.
//!
//! A run nonce makes ids unique across runs (the server keeps history):
//! request ids are UUID-shaped (`NNNNNNNN-0000-4000-8000-SSSSSSSSSSSS`, the
//! gatekeeper insists on a UUID), message ids `m-NNNNNNNN-SSSSSSSSSSSS`.

pub fn request_id(nonce: u32, seq: u64) -> String {
    format!("{nonce:08x}-0000-4000-8000-{seq:012x}")
}

pub fn message_id(nonce: u32, seq: u64) -> String {
    format!("m-{nonce:08x}-{seq:012x}")
}

/// The sequence number in one of our request ids, if it is ours.
pub fn parse_request_id(nonce: u32, id: &str) -> Option<u64> {
    let (head, seq) = (id.get(..8)?, id.get(24..)?);
    (id.len() == 36 && u32::from_str_radix(head, 16).ok()? == nonce)
        .then(|| u64::from_str_radix(seq, 16).ok())
        .flatten()
}

/// The sequence number in one of our message ids, if it is ours.
pub fn parse_message_id(nonce: u32, id: &str) -> Option<u64> {
    let rest = id.strip_prefix("m-")?;
    let (head, seq) = rest.split_once('-')?;
    (u32::from_str_radix(head, 16).ok()? == nonce)
        .then(|| u64::from_str_radix(seq, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_foreign_ids_are_not_ours() {
        let r = request_id(0xdead_beef, 42);
        assert_eq!(r, "deadbeef-0000-4000-8000-00000000002a");
        assert_eq!(parse_request_id(0xdead_beef, &r), Some(42));
        assert_eq!(parse_request_id(0x1234_5678, &r), None);
        assert_eq!(parse_request_id(0xdead_beef, "not-a-uuid"), None);

        let m = message_id(7, 1 << 40);
        assert_eq!(parse_message_id(7, &m), Some(1 << 40));
        assert_eq!(parse_message_id(8, &m), None);
        assert_eq!(parse_message_id(7, "room-0001-m000017"), None);
    }
}
