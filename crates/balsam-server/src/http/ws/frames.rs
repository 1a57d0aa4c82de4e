//! The sequenced protocol's JSON frames (docs/realtime.md): the client's `hello` and the
//! server's control frames. Event frames are not here: they are the stored payload with
//! `"seq"` spliced in, never re-encoded.

use serde::{Deserialize, Serialize};

/// The client's first frame on the sequenced protocol.
#[derive(Deserialize)]
pub(super) struct Hello {
    pub op: String,
    pub token: String,
    pub last_seq: Option<i64>,
    /// The `epoch` of the welcome that `last_seq` was counted under: a different one means
    /// another database (reset, recreated, restored), whose numbers mean nothing here.
    #[serde(default)]
    pub epoch: Option<String>,
}

/// A server control frame. `op` comes first, then the fields in the order declared: the
/// bytes are the wire format the web client and the tests read.
#[derive(Serialize, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub(super) enum Control<'a> {
    /// Authenticated; `seq` is the log's head; with `resumed` the missed events follow.
    Welcome {
        seq: i64,
        resumed: bool,
        epoch: &'a str,
        heartbeat_secs: u64,
    },
    /// The log no longer holds what the client missed: refetch, then continue from `seq`.
    Resync { seq: i64 },
    /// Every `ws.ping_interval_secs`, with the last `seq` sent on this socket.
    Heartbeat { seq: i64 },
}

impl Control<'_> {
    /// The frame's JSON text.
    pub(super) fn to_json(&self) -> String {
        // Strings, integers and booleans only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_frames_keep_their_wire_bytes() {
        let welcome = Control::Welcome {
            seq: 57,
            resumed: true,
            epoch: "9f1c",
            heartbeat_secs: 20,
        };
        assert_eq!(
            welcome.to_json(),
            r#"{"op":"welcome","seq":57,"resumed":true,"epoch":"9f1c","heartbeat_secs":20}"#
        );
        assert_eq!(
            Control::Resync { seq: 90 }.to_json(),
            r#"{"op":"resync","seq":90}"#
        );
        assert_eq!(
            Control::Heartbeat { seq: 90 }.to_json(),
            r#"{"op":"heartbeat","seq":90}"#
        );
    }
}
