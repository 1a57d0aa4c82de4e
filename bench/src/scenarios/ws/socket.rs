//! The subscriber side of the `ws` scenario: connecting with a hello, reading frames and
//! skimming them for sequence numbers and job ids.

use crate::api::excerpt;
use anyhow::{bail, Result};
use futures::{SinkExt, StreamExt};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long connecting plus hello -> welcome may take per socket.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ws` URL of `/subscribe-user` under the API root.
pub(super) fn subscribe_url(api_root: &str) -> Result<String> {
    let root = api_root.trim_end_matches('/');
    let rest = if let Some(r) = root.strip_prefix("http://") {
        format!("ws://{r}")
    } else if let Some(r) = root.strip_prefix("https://") {
        format!("wss://{r}")
    } else {
        bail!("--url must be http(s), got {api_root}");
    };
    Ok(format!("{rest}/subscribe-user"))
}

/// The parts of a frame the tool looks at; `data` is skimmed for instance ids only, so
/// a 1 000-job frame costs a parse, not a tree of `Value`s.
#[derive(Clone, Deserialize)]
pub(super) struct WireFrame {
    pub(super) op: Option<String>,
    pub(super) seq: Option<i64>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) action: Option<String>,
    #[serde(default)]
    pub(super) data: Data,
}

#[derive(Clone, Default)]
pub(super) struct Data {
    /// Ids of the instances when `data` is a list (bulk events); a single instance or
    /// `{"ids": [...]}` counts as one item with no ids recorded.
    pub(super) ids: Vec<i64>,
    pub(super) items: u64,
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        #[derive(Deserialize)]
        struct IdOnly {
            id: Option<i64>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Data;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("event data")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
                let mut out = Data::default();
                while let Some(item) = seq.next_element::<IdOnly>()? {
                    out.items += 1;
                    if let Some(id) = item.id {
                        out.ids.push(id);
                    }
                }
                Ok(out)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Data {
                    ids: Vec::new(),
                    items: 1,
                })
            }
            fn visit_unit<E>(self) -> Result<Data, E> {
                Ok(Data::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// Frames smaller than this are parsed by every subscriber (heartbeats, state counts).
const SHARED_SKIM_MIN_BYTES: usize = 4096;

/// Big frames skimmed by one subscriber, for the others. Every subscriber of the run gets
/// the same event frames, and parsing a 1 000-job frame (~0.5 MB) in each of 100 readers
/// cost the tool twice the server's CPU on this machine, all of it taken from the server
/// it measures. So the first reader of a frame parses it; the others compare their bytes
/// with that reader's, in full, and take its result only when they are equal, or else
/// parse their own. A frame is dropped from the cache once every subscriber has read it.
pub(super) struct Skims {
    subscribers: usize,
    frames: Mutex<HashMap<SkimKey, Vec<SharedSkim>>>,
}

/// A frame's length and first bytes (`{"seq":N,…`); the full bytes decide.
type SkimKey = (usize, Vec<u8>);

struct SharedSkim {
    text: tungstenite::Utf8Bytes,
    frame: Arc<WireFrame>,
    /// Subscribers that have not read it yet.
    left: usize,
}

impl Skims {
    pub(super) fn new(subscribers: usize) -> Self {
        Self {
            subscribers,
            frames: Mutex::new(HashMap::new()),
        }
    }

    /// The frame `text` parsed: by this reader, or by another that received the same bytes.
    fn skim(&self, text: &tungstenite::Utf8Bytes) -> Result<Arc<WireFrame>, serde_json::Error> {
        if text.len() < SHARED_SKIM_MIN_BYTES || self.subscribers < 2 {
            return serde_json::from_str(text).map(Arc::new);
        }
        let key = (text.len(), text.as_bytes()[..64].to_vec());
        {
            let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(same_key) = frames.get_mut(&key) {
                if let Some(i) = same_key
                    .iter()
                    .position(|s| s.text.as_bytes() == text.as_bytes())
                {
                    let hit = &mut same_key[i];
                    let frame = hit.frame.clone();
                    hit.left -= 1;
                    if hit.left == 0 {
                        same_key.swap_remove(i);
                        if same_key.is_empty() {
                            frames.remove(&key);
                        }
                    }
                    return Ok(frame);
                }
            }
        }
        // Parsed outside the lock: the other readers go on meanwhile (a second reader of
        // the same frame may parse it too; both results are the same).
        let frame = Arc::new(serde_json::from_str::<WireFrame>(text)?);
        let mut frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        let same_key = frames.entry(key).or_default();
        match same_key
            .iter_mut()
            .find(|s| s.text.as_bytes() == text.as_bytes())
        {
            Some(other) => {
                other.left -= 1;
            }
            None => same_key.push(SharedSkim {
                text: text.clone(),
                frame: frame.clone(),
                left: self.subscribers - 1,
            }),
        }
        Ok(frame)
    }
}

/// One event frame as a subscriber received it.
pub(super) struct Received {
    pub(super) seq: i64,
    pub(super) at: Instant,
    pub(super) kind: String,
    pub(super) action: String,
    pub(super) items: u64,
    pub(super) ids: Vec<i64>,
}

#[derive(Default)]
pub(super) struct SubscriberOutcome {
    pub(super) frames: Vec<Received>,
    pub(super) heartbeats: u64,
    pub(super) bytes: u64,
    pub(super) error: Option<String>,
}

/// One change the tool made while the subscribers listened.
pub(super) struct Call {
    pub(super) create: bool,
    pub(super) ids: Vec<i64>,
    /// When the call was sent, and how long its HTTP exchange took.
    pub(super) sent: Instant,
    /// Each HTTP exchange the call stands for: one, or every PATCH of a concurrent phase.
    pub(super) took: Vec<Duration>,
    pub(super) responded: Instant,
    /// The call's events are the seqs in (lo, hi].
    pub(super) lo: i64,
    pub(super) hi: i64,
}

/// What became of connecting one socket.
pub(super) enum Connect {
    Welcome {
        socket: Box<Socket>,
        seq: i64,
        took: Duration,
    },
    /// The server does not speak our protocol here (n/a).
    NotOffered(String),
    Failed(String),
}

pub(super) async fn connect(url: &str, token: &str) -> Connect {
    let t0 = Instant::now();
    let attempt = async {
        let (mut socket, _) = match tokio_tungstenite::connect_async(url).await {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(resp)) => {
                return Connect::NotOffered(format!(
                    "the websocket upgrade at {url} answered HTTP {}",
                    resp.status().as_u16()
                ))
            }
            Err(e) => return Connect::Failed(format!("connecting to {url}: {e}")),
        };
        let hello = json!({"op": "hello", "token": token, "last_seq": null});
        if let Err(e) = socket.send(Message::Text(hello.to_string().into())).await {
            return Connect::Failed(format!("sending the hello: {e}"));
        }
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = match serde_json::from_str(&t) {
                        Ok(v) => v,
                        Err(_) => {
                            return Connect::NotOffered(format!(
                                "the first frame after the hello is not JSON: {}",
                                excerpt(&t)
                            ))
                        }
                    };
                    return match (v["op"].as_str(), v["seq"].as_i64()) {
                        (Some("welcome"), Some(seq)) => Connect::Welcome {
                            socket: Box::new(socket),
                            seq,
                            took: t0.elapsed(),
                        },
                        (Some(_), _) => Connect::Failed(format!(
                            "expected a welcome after the hello, got {}",
                            excerpt(&t)
                        )),
                        _ => Connect::NotOffered(format!(
                            "the first frame after the hello is not a welcome: {}",
                            excerpt(&t)
                        )),
                    };
                }
                Some(Ok(Message::Binary(b))) => {
                    return Connect::NotOffered(format!(
                        "a binary frame instead of a welcome (upstream's protocol?): {}",
                        excerpt(&String::from_utf8_lossy(&b))
                    ))
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((0, String::new()));
                    // 1008 is upstream's answer to a first frame that is not a valid JWT.
                    let msg = format!(
                        "the server closed the socket after the hello with code {code} {reason:?} (no sequenced protocol)"
                    );
                    return if code == u16::from(CloseCode::Policy) {
                        Connect::NotOffered(msg)
                    } else {
                        Connect::Failed(msg)
                    };
                }
                Some(Ok(_)) => continue, // ping/pong
                Some(Err(e)) => return Connect::Failed(format!("reading the welcome: {e}")),
                None => {
                    return Connect::NotOffered(
                        "the server closed the connection after the hello".into(),
                    )
                }
            }
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(c) => c,
        Err(_) => Connect::Failed(format!(
            "no welcome within {} s of connecting to {url}",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Target for the readers: stop once this seq arrived, or at the instant.
pub(super) type Target = Option<(i64, tokio::time::Instant)>;

/// Reads frames until the target seq has arrived (or the deadline passes).
pub(super) async fn subscriber(
    mut socket: Box<Socket>,
    mut target: watch::Receiver<Target>,
    skims: Arc<Skims>,
) -> SubscriberOutcome {
    let mut out = SubscriberOutcome::default();
    let mut last = i64::MIN;
    let far = tokio::time::Instant::now() + Duration::from_secs(365 * 86_400);
    loop {
        let current = *target.borrow_and_update();
        if let Some((want, _)) = current {
            if last >= want {
                break;
            }
        }
        let until = current.map_or(far, |(_, d)| d);
        tokio::select! {
            msg = socket.next() => {
                let at = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        out.bytes += t.len() as u64;
                        let frame = match skims.skim(&t) {
                            Ok(f) => f,
                            Err(e) => {
                                out.error = Some(format!("unparsable frame ({e}): {}", excerpt(&t)));
                                break;
                            }
                        };
                        match (frame.op.as_deref(), frame.seq) {
                            (Some("heartbeat"), _) => out.heartbeats += 1,
                            (Some(op), _) => {
                                out.error = Some(format!("unexpected control frame {op}: {}", excerpt(&t)));
                                break;
                            }
                            (None, Some(seq)) => {
                                last = last.max(seq);
                                out.frames.push(Received {
                                    seq,
                                    at,
                                    kind: frame.kind.clone().unwrap_or_default(),
                                    action: frame.action.clone().unwrap_or_default(),
                                    items: frame.data.items,
                                    ids: frame.data.ids.clone(),
                                });
                            }
                            (None, None) => {
                                out.error = Some(format!("an event without seq: {}", excerpt(&t)));
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        out.error = Some("a binary (upstream-protocol) frame on a sequenced socket".into());
                        break;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((0, String::new()));
                        out.error = Some(format!("the server closed the socket: {code} {reason:?}"));
                        break;
                    }
                    Some(Ok(_)) => {} // pings are answered by tungstenite
                    Some(Err(e)) => {
                        out.error = Some(format!("reading: {e}"));
                        break;
                    }
                    None => {
                        out.error = Some("the connection ended".into());
                        break;
                    }
                }
            }
            changed = target.changed() => {
                if changed.is_err() {
                    out.error = Some("aborted".into());
                    break;
                }
            }
            _ = tokio::time::sleep_until(until) => {
                out.error = Some(format!(
                    "timed out waiting for seq {} (last received {})",
                    current.map_or(0, |c| c.0),
                    if last == i64::MIN { "none".to_string() } else { last.to_string() }
                ));
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), (*socket).close(None)).await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_url_follows_the_api_root() {
        assert_eq!(
            subscribe_url("http://127.0.0.1:8000/api/v1/").unwrap(),
            "ws://127.0.0.1:8000/api/v1/subscribe-user"
        );
        assert_eq!(
            subscribe_url("http://127.0.0.1:9").unwrap(),
            "ws://127.0.0.1:9/subscribe-user"
        );
        assert!(subscribe_url("ftp://x").is_err());
    }

    #[test]
    fn frames_are_skimmed_for_ids() {
        let f: WireFrame = serde_json::from_str(
            r#"{"seq":7,"action":"bulk-create","type":"job","data":[{"id":3,"tags":{"id":9}},{"workdir":"x","id":4}]}"#,
        )
        .unwrap();
        assert_eq!(f.seq, Some(7));
        assert_eq!(f.data.ids, vec![3, 4]);
        assert_eq!(f.data.items, 2);
        let f: WireFrame = serde_json::from_str(r#"{"op":"heartbeat","seq":9}"#).unwrap();
        assert_eq!(f.op.as_deref(), Some("heartbeat"));
        assert_eq!(f.data.items, 0);
        let f: WireFrame = serde_json::from_str(
            r#"{"seq":1,"action":"bulk-delete","type":"job","data":{"ids":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(f.data.items, 1);
        assert!(f.data.ids.is_empty());
    }

    fn big_frame(seq: i64, first_id: i64) -> tungstenite::Utf8Bytes {
        let data: Vec<Value> = (first_id..first_id + 100)
            .map(|id| json!({"id": id, "workdir": "w".repeat(40)}))
            .collect();
        json!({"seq": seq, "action": "bulk-update", "type": "job", "data": data})
            .to_string()
            .into()
    }

    #[test]
    fn big_frames_are_parsed_once_and_matched_by_their_bytes() {
        let skims = Skims::new(3);
        let a = big_frame(5, 1);
        assert!(a.len() >= SHARED_SKIM_MIN_BYTES);
        let first = skims.skim(&a).unwrap();
        assert_eq!(first.data.ids.first(), Some(&1));
        // Same length and prefix, other ids: not the cached result.
        let b: tungstenite::Utf8Bytes = a.as_str().replace("\"id\":100,", "\"id\":900,").into();
        assert_eq!(
            (a.len(), &a.as_bytes()[..64]),
            (b.len(), &b.as_bytes()[..64])
        );
        assert_ne!(a, b);
        assert_eq!(skims.skim(&b).unwrap().data.ids.last(), Some(&900));
        // The other readers of `a` share the first parse; the last one frees it.
        let second = skims.skim(&a.clone()).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(skims.frames.lock().unwrap().values().flatten().count(), 2);
        skims.skim(&a).unwrap();
        assert_eq!(skims.frames.lock().unwrap().values().flatten().count(), 1);
        // Small frames are not kept.
        skims.skim(&r#"{"op":"heartbeat","seq":9}"#.into()).unwrap();
        assert_eq!(skims.frames.lock().unwrap().values().flatten().count(), 1);
    }
}
