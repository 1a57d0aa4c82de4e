//! The wire format of one Redis PUBLISH: a batch of one user's messages as length-prefixed
//! binary records, so payloads cross Redis byte for byte and are never re-encoded as JSON.
//!
//! Message frame = `b"B1"` then, per message, `seq: i64 BE`, `len: u32 BE`, `len` bytes of
//! UTF-8. Gap frame = `b"BG"`: "a publish for this user failed, catch up from the log".

use std::sync::Arc;

use crate::{ChannelError, LoggedEvent, UserId};

const MAGIC: &[u8; 2] = b"B1";
/// The frame that tells every subscriber of a channel to catch up from the log.
pub(crate) const GAP_FRAME: &[u8] = b"BG";
const RECORD_HEADER: usize = 8 + 4;

/// The Redis channel of `user`'s group.
pub(crate) fn channel_name(prefix: &str, user: UserId) -> String {
    format!("{prefix}{user}")
}

/// The user of a channel name, if it is one of ours.
pub(crate) fn parse_channel_name(prefix: &str, name: &str) -> Option<UserId> {
    name.strip_prefix(prefix)?.parse().ok()
}

/// Encodes `messages` into frames of at most `max_frame_bytes` each (a single larger
/// message gets a frame of its own). Order is kept within and across frames.
pub(crate) fn encode(
    messages: &[LoggedEvent],
    max_frame_bytes: usize,
) -> Result<Vec<Vec<u8>>, ChannelError> {
    let mut frames = Vec::new();
    let mut frame: Vec<u8> = Vec::new();
    for m in messages {
        let payload = m.payload.as_bytes();
        let len =
            u32::try_from(payload.len()).map_err(|_| ChannelError::TooLarge(payload.len()))?;
        let record = RECORD_HEADER + payload.len();
        if frame.len() > MAGIC.len() && frame.len() + record > max_frame_bytes {
            frames.push(std::mem::take(&mut frame));
        }
        if frame.is_empty() {
            frame.reserve(MAGIC.len() + record);
            frame.extend_from_slice(MAGIC);
        }
        frame.extend_from_slice(&m.seq.to_be_bytes());
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(payload);
    }
    if !frame.is_empty() {
        frames.push(frame);
    }
    Ok(frames)
}

/// A decoded frame.
#[derive(Debug, PartialEq)]
pub(crate) enum Frame {
    Messages(Vec<LoggedEvent>),
    Gap,
}

/// Decodes one frame; any malformation rejects the whole frame.
pub(crate) fn decode(frame: &[u8]) -> Result<Frame, &'static str> {
    if frame == GAP_FRAME {
        return Ok(Frame::Gap);
    }
    decode_messages(frame).map(Frame::Messages)
}

fn decode_messages(frame: &[u8]) -> Result<Vec<LoggedEvent>, &'static str> {
    let mut rest = frame.strip_prefix(MAGIC).ok_or("unknown frame format")?;
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let (seq, tail) = split_array::<8>(rest).ok_or("truncated record header")?;
        let (len, tail) = split_array::<4>(tail).ok_or("truncated record header")?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| "record too long")?;
        if tail.len() < len {
            return Err("truncated payload");
        }
        let (payload, tail) = tail.split_at(len);
        let payload = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8")?;
        messages.push(LoggedEvent {
            seq: i64::from_be_bytes(seq),
            payload: Arc::from(payload),
        });
        rest = tail;
    }
    Ok(messages)
}

fn split_array<const N: usize>(bytes: &[u8]) -> Option<([u8; N], &[u8])> {
    if bytes.len() < N {
        return None;
    }
    let (head, tail) = bytes.split_at(N);
    Some((head.try_into().ok()?, tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::event;

    fn msgs() -> Vec<LoggedEvent> {
        vec![
            event(1, r#"{"action":"create","type":"job","data":[]}"#),
            event(-5, ""),
            event(i64::MAX, "ünïcødé ✓ \u{0} \n"),
        ]
    }

    #[test]
    fn a_batch_round_trips_byte_for_byte() {
        let frames = encode(&msgs(), 1 << 20).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(decode_messages(&frames[0]).unwrap(), msgs());
    }

    #[test]
    fn large_batches_split_into_frames_in_order() {
        let many: Vec<LoggedEvent> = (0..100).map(|i| event(i, "x".repeat(100))).collect();
        let frames = encode(&many, 1000).unwrap();
        assert!(frames.len() > 10);
        assert!(frames.iter().all(|f| f.len() <= 1000));
        let back: Vec<LoggedEvent> = frames
            .iter()
            .flat_map(|f| decode_messages(f).unwrap())
            .collect();
        assert_eq!(back, many);
    }

    #[test]
    fn a_message_larger_than_a_frame_travels_alone() {
        let big = vec![event(1, "a"), event(2, "b".repeat(5000)), event(3, "c")];
        let frames = encode(&big, 100).unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(decode_messages(&frames[1]).unwrap(), vec![big[1].clone()]);
    }

    #[test]
    fn an_empty_batch_publishes_nothing() {
        assert!(encode(&[], 100).unwrap().is_empty());
    }

    #[test]
    fn malformed_frames_are_rejected() {
        let frame = encode(&msgs(), 1 << 20).unwrap().remove(0);
        assert!(decode_messages(b"{\"seq\":1}").is_err());
        assert!(decode_messages(&frame[..frame.len() - 1]).is_err());
        assert!(decode_messages(&frame[..5]).is_err());
        let mut bad_utf8 = MAGIC.to_vec();
        bad_utf8.extend_from_slice(&1i64.to_be_bytes());
        bad_utf8.extend_from_slice(&1u32.to_be_bytes());
        bad_utf8.push(0xff);
        assert!(decode_messages(&bad_utf8).is_err());
        assert_eq!(decode_messages(MAGIC).unwrap(), vec![]);
    }

    #[test]
    fn the_gap_frame_decodes_as_a_gap() {
        assert_eq!(decode(GAP_FRAME).unwrap(), Frame::Gap);
        assert_eq!(
            decode(&encode(&msgs(), 1 << 20).unwrap()[0]).unwrap(),
            Frame::Messages(msgs())
        );
    }

    #[test]
    fn channel_names_carry_the_user_id() {
        assert_eq!(channel_name("balsam:user:", 42), "balsam:user:42");
        assert_eq!(
            parse_channel_name("balsam:user:", "balsam:user:-3"),
            Some(-3)
        );
        assert_eq!(parse_channel_name("balsam:user:", "other:42"), None);
        assert_eq!(parse_channel_name("balsam:user:", "balsam:user:x"), None);
    }
}
