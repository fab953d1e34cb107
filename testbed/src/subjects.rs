//! The subjects of PROTOCOL.md: built once per site, parsed without
//! allocation on the hot path.

/// Request/reply subject of [`crate::info`].
pub const INFO: &str = "testbed.info";

/// The subjects and stream names of one site.
#[derive(Debug, Clone)]
pub struct Subjects {
    pub site: String,
    /// `MESSAGES_{site}`: captures client sends.
    pub messages_stream: String,
    /// `MESSAGES_CANONICAL_{site}`: gatekeeper output.
    pub canonical_stream: String,
    /// `chat.user.*.room.*.{site}.msg.send`
    pub send_filter: String,
    /// `chat.msg.canonical.{site}.>`
    pub canonical_filter: String,
    /// `chat.msg.canonical.{site}.created`
    pub canonical_created: String,
    /// `chat.user.*.request.room.*.{site}.msg.>` (history and thread)
    pub history_filter: String,
}

impl Subjects {
    pub fn new(site: &str) -> Self {
        Subjects {
            site: site.to_string(),
            messages_stream: format!("MESSAGES_{site}"),
            canonical_stream: format!("MESSAGES_CANONICAL_{site}"),
            send_filter: format!("chat.user.*.room.*.{site}.msg.send"),
            canonical_filter: format!("chat.msg.canonical.{site}.>"),
            canonical_created: format!("chat.msg.canonical.{site}.created"),
            history_filter: format!("chat.user.*.request.room.*.{site}.msg.>"),
        }
    }

    /// `(account, room)` of `chat.user.{account}.room.{room}.{site}.msg.send`.
    pub fn parse_send<'a>(&self, subject: &'a str) -> Option<(&'a str, &'a str)> {
        let mut t = subject.split('.');
        let ok = t.next() == Some("chat") && t.next() == Some("user");
        let account = t.next()?;
        let ok = ok && t.next() == Some("room");
        let room = t.next()?;
        let ok = ok && t.next() == Some(self.site.as_str());
        let ok = ok && t.next() == Some("msg") && t.next() == Some("send") && t.next().is_none();
        ok.then_some((account, room))
    }

    /// `(account, room, endpoint)` of
    /// `chat.user.{account}.request.room.{room}.{site}.msg.{history|thread}`.
    pub fn parse_history<'a>(&self, subject: &'a str) -> Option<(&'a str, &'a str, Endpoint)> {
        let mut t = subject.split('.');
        let ok = t.next() == Some("chat") && t.next() == Some("user");
        let account = t.next()?;
        let ok = ok && t.next() == Some("request") && t.next() == Some("room");
        let room = t.next()?;
        let ok = ok && t.next() == Some(self.site.as_str()) && t.next() == Some("msg");
        let endpoint = match t.next()? {
            "history" => Endpoint::History,
            "thread" => Endpoint::Thread,
            _ => return None,
        };
        (ok && t.next().is_none()).then_some((account, room, endpoint))
    }
}

/// The two history-service endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    History,
    Thread,
}

/// `chat.user.{account}.response.{request_id}`: the gatekeeper's reply.
pub fn response(account: &str, request_id: &str) -> String {
    format!("chat.user.{account}.response.{request_id}")
}

/// `chat.room.{room}.event`: RoomEvents of group rooms.
pub fn room_event(room: &str) -> String {
    format!("chat.room.{room}.event")
}

/// `chat.user.{account}.event.room`: RoomEvents of DM rooms, per member.
pub fn user_room_event(account: &str) -> String {
    format!("chat.user.{account}.event.room")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_send_subjects_of_its_site_only() {
        let s = Subjects::new("site-local");
        assert_eq!(
            s.parse_send("chat.user.user-1.room.room-0002.site-local.msg.send"),
            Some(("user-1", "room-0002"))
        );
        assert_eq!(
            s.parse_send("chat.user.user-1.room.room-0002.other.msg.send"),
            None
        );
        assert_eq!(
            s.parse_send("chat.user.user-1.room.room-0002.site-local.msg.send.x"),
            None
        );
        assert_eq!(s.parse_send("chat.user.user-1"), None);
    }

    #[test]
    fn parses_history_subjects() {
        let s = Subjects::new("site-local");
        assert_eq!(
            s.parse_history("chat.user.user-1.request.room.room-0002.site-local.msg.thread"),
            Some(("user-1", "room-0002", Endpoint::Thread))
        );
        assert_eq!(
            s.parse_history("chat.user.user-1.request.room.room-0002.site-local.msg.edit"),
            None
        );
        assert_eq!(s.messages_stream, "MESSAGES_site-local");
    }
}
