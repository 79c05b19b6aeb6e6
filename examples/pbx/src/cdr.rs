//! Call detail records as JSON lines (one object per call, appended atomically per line).
//!
//! Fields: `call_id`, `caller`, `callee`, `start`, `answer`, `end` (RFC 3339 UTC), `duration_s`
//! (answer to end, 0 when unanswered), `disposition`, `codecs` (per leg) and per-direction
//! media statistics (`loss_pct`, `jitter_ms`, `mos`).

use std::path::PathBuf;

use events::Timestamp;
use serde::{Serialize, Serializer};

use crate::data::{DataError, append_line};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Disposition {
    /// Answered.
    Answered,
    /// The callee was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The caller hung up before an answer.
    Cancelled,
    /// The callee declined.
    Rejected,
    /// Refused for lack of resources or licences (503, 403).
    Refused,
    /// Any other failure.
    Failed,
}

/// Which traffic a call belongs to, for traffic observation (MV-53: incoming traffic from
/// and outgoing traffic to the providers, apart from internal calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Traffic {
    /// Between users of the PBX.
    #[default]
    Internal,
    /// From a provider (a trunk) to a user.
    Incoming,
    /// From a user to a provider.
    Outgoing,
}

/// Media statistics of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MediaStats {
    /// Packets lost, percent of expected.
    pub loss_pct: f64,
    /// Mean interarrival jitter, milliseconds.
    pub jitter_ms: f64,
    /// Estimated MOS ([`crate::media::quality`], a simplified ITU-T G.107 E-model).
    pub mos: f64,
}

fn ts<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

fn ts_opt<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CdrRecord {
    /// The caller's Call-ID.
    pub call_id: String,
    /// Calling number (From / P-Asserted-Identity).
    pub caller: String,
    /// Called number.
    pub callee: String,
    /// When the call arrived.
    #[serde(serialize_with = "ts")]
    pub start: Timestamp,
    /// When it was answered.
    #[serde(serialize_with = "ts_opt")]
    pub answer: Option<Timestamp>,
    /// When it ended.
    #[serde(serialize_with = "ts")]
    pub end: Timestamp,
    /// Talk time in seconds (answer to end).
    pub duration_s: f64,
    /// How it ended.
    pub disposition: Disposition,
    /// Codec of the caller's leg and of the callee's leg (different when transcoded).
    pub codecs: [Option<String>; 2],
    /// What the PBX received from the caller, and from the callee (relayed calls).
    pub media: [Option<MediaStats>; 2],
    /// Internal, incoming or outgoing (MV-53).
    pub traffic: Traffic,
    /// The trunk of an incoming or outgoing call, by name.
    pub trunk: Option<String>,
}

impl CdrRecord {
    /// A record with `duration_s` computed from the times.
    pub fn new(
        call_id: String,
        caller: String,
        callee: String,
        start: Timestamp,
        answer: Option<Timestamp>,
        end: Timestamp,
        disposition: Disposition,
    ) -> Self {
        let duration_s = answer.map_or(0.0, |a| end.since(a).as_secs_f64());
        Self {
            call_id,
            caller,
            callee,
            start,
            answer,
            end,
            duration_s,
            disposition,
            codecs: [None, None],
            media: [None, None],
            traffic: Traffic::Internal,
            trunk: None,
        }
    }
}

/// Appends records to the CDR file from a thread of its own, so the SIP core never waits on
/// the disk. Lines queued while one batch is being synced go out together: one `write` on
/// the `O_APPEND` file and one `fdatasync` per batch (group commit). Dropping the writer
/// writes what is queued, then returns.
#[derive(Debug)]
pub struct CdrWriter {
    path: PathBuf,
    tx: Option<std::sync::mpsc::Sender<String>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CdrWriter {
    /// A writer appending to `path` (created when the first record comes).
    pub fn new(path: PathBuf) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let file = path.clone();
        let thread = std::thread::Builder::new()
            .name("cdr-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = first;
                    while let Ok(more) = rx.try_recv() {
                        batch.push('\n');
                        batch.push_str(&more);
                    }
                    if let Err(e) = append_line(&file, &batch) {
                        tracing::warn!("call records not written: {e}");
                    }
                }
            })
            .ok();
        Self {
            path,
            tx: Some(tx),
            thread,
        }
    }

    /// Queues `rec` as one JSON line; never blocks on the disk.
    pub fn write(&self, rec: &CdrRecord) -> Result<(), DataError> {
        let line = serde_json::to_string(rec).map_err(|e| DataError::Corrupt {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        match (&self.tx, &self.thread) {
            (Some(tx), Some(_)) if tx.send(line).is_ok() => Ok(()),
            _ => Err(DataError::Corrupt {
                path: self.path.clone(),
                reason: "the call record writer has stopped".into(),
            }),
        }
    }
}

impl Drop for CdrWriter {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_lines_with_the_issue_fields() {
        let root = crate::data::tests::temp_dir("cdr");
        std::fs::create_dir_all(&root).expect("dir");
        let w = CdrWriter::new(root.join("cdr.jsonl"));
        let t0 = Timestamp::from_unix_secs(1_800_000_000);
        let mut r = CdrRecord::new(
            "c1@x".into(),
            "201".into(),
            "202".into(),
            t0,
            Some(t0.plus(std::time::Duration::from_secs(3))),
            t0.plus(std::time::Duration::from_millis(63_500)),
            Disposition::Answered,
        );
        r.codecs = [Some("opus".into()), Some("PCMU".into())];
        r.media[0] = Some(MediaStats {
            loss_pct: 0.5,
            jitter_ms: 2.25,
            mos: 4.3,
        });
        w.write(&r).expect("write");
        w.write(&CdrRecord::new(
            "c2@x".into(),
            "201".into(),
            "203".into(),
            t0,
            None,
            t0,
            Disposition::NoAnswer,
        ))
        .expect("write");
        drop(w); // writes what is queued
        let text = std::fs::read_to_string(root.join("cdr.jsonl")).expect("read");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 2);
        let a = &lines[0];
        for k in [
            "call_id",
            "caller",
            "callee",
            "start",
            "answer",
            "end",
            "duration_s",
            "disposition",
            "codecs",
            "media",
        ] {
            assert!(a.get(k).is_some(), "field {k}");
        }
        assert_eq!(a["start"], "2027-01-15T08:00:00.000Z");
        assert_eq!(a["duration_s"], 60.5);
        assert_eq!(a["disposition"], "answered");
        assert_eq!(a["media"][0]["mos"], 4.3);
        assert_eq!(lines[1]["answer"], serde_json::Value::Null);
        assert_eq!(lines[1]["disposition"], "no_answer");
        let _ = std::fs::remove_dir_all(&root);
    }
}
