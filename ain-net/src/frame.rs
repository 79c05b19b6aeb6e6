//! AIN wire frames: a fixed 12-byte header followed by a bounded payload.
//!
//! ```text
//! 0      2        3       4            8             12
//! +------+--------+-------+------------+-------------+-----------------+
//! | 0xA1 | 0x4E   | ver=1 | msg type   | sequence    | payload length  | payload ...
//! | magic (2)     | (1)   | (1)        | u32 BE      | u32 BE (<= MAX) |
//! ```
//! Multi-byte integers are big-endian. Strings are `u16` length + UTF-8, byte blobs `u32`
//! length + bytes, lists `u16` count + items. A payload must be consumed exactly.

use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16, be_u32, be_u64};

use crate::msg::Message;

/// Frame magic: "\xA1N" (AIN).
pub const MAGIC: [u8; 2] = [0xA1, 0x4E];
/// Protocol version carried in every frame; a peer with another version is refused.
pub const PROTOCOL_VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 12;
/// Largest payload accepted (1 MiB): a longer length field is an error before any allocation.
pub const MAX_PAYLOAD: u32 = 1 << 20;

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Sender's sequence number (for duplicate suppression of acknowledged messages).
    pub seq: u32,
    /// The message.
    pub msg: Message,
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The first two bytes were not [`MAGIC`].
    #[error("bad magic {0:02x?}")]
    BadMagic([u8; 2]),
    /// The peer speaks another protocol version.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// The length field exceeds [`MAX_PAYLOAD`].
    #[error("payload length {0} exceeds the limit")]
    TooLong(u32),
    /// Unknown message type code.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// The payload does not match its message type.
    #[error("malformed payload for message type {0}")]
    Malformed(u8),
}

impl Frame {
    /// Encodes the frame and appends it to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&MAGIC);
        out.push(PROTOCOL_VERSION);
        out.push(self.msg.type_code());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        self.msg.encode_payload(out);
        let len = (out.len() - start - HEADER_LEN) as u32;
        out[start + 8..start + 12].copy_from_slice(&len.to_be_bytes());
    }

    /// Encodes into a fresh vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// Decodes one frame from the start of `buf`. `Ok(None)` means more bytes are needed;
    /// `Ok(Some((frame, used)))` gives the frame and the bytes it used.
    pub fn decode(buf: &[u8]) -> Result<Option<(Self, usize)>, FrameError> {
        if buf.len() >= 2 && buf[..2] != MAGIC {
            return Err(FrameError::BadMagic([buf[0], buf[1]]));
        }
        if buf.len() >= 3 && buf[2] != PROTOCOL_VERSION {
            return Err(FrameError::UnsupportedVersion(buf[2]));
        }
        let Ok((_, (ty, seq, len))) = header(buf) else {
            return Ok(None);
        };
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong(len));
        }
        let total = HEADER_LEN + len as usize;
        if buf.len() < total {
            return Ok(None);
        }
        let msg = Message::decode_payload(ty, &buf[HEADER_LEN..total])?;
        Ok(Some((Self { seq, msg }, total)))
    }
}

fn header(i: &[u8]) -> IResult<&[u8], (u8, u32, u32)> {
    let (i, _) = take(3usize)(i)?;
    let (i, ty) = be_u8(i)?;
    let (i, seq) = be_u32(i)?;
    let (i, len) = be_u32(i)?;
    Ok((i, (ty, seq, len)))
}

/// Reassembles frames from a byte stream (TCP). After an error the stream is unusable:
/// the driver closes the connection.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    failed: bool,
}

impl FrameDecoder {
    /// A decoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.failed {
            return Ok(None);
        }
        match Frame::decode(&self.buf) {
            Ok(Some((f, used))) => {
                self.buf.drain(..used);
                Ok(Some(f))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.failed = true;
                self.buf.clear();
                Err(e)
            }
        }
    }
}

// ---- payload primitives shared by the message codec ----

pub(crate) type Res<'a, T> = IResult<&'a [u8], T>;

pub(crate) fn u8_(i: &[u8]) -> Res<'_, u8> {
    be_u8(i)
}
/// A boolean octet: 0 or 1 only, so every message has one encoding.
pub(crate) fn bool_(i: &[u8]) -> Res<'_, bool> {
    match be_u8(i)? {
        (rest, 0) => Ok((rest, false)),
        (rest, 1) => Ok((rest, true)),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}
pub(crate) fn u16_(i: &[u8]) -> Res<'_, u16> {
    be_u16(i)
}
pub(crate) fn u32_(i: &[u8]) -> Res<'_, u32> {
    be_u32(i)
}
pub(crate) fn u64_(i: &[u8]) -> Res<'_, u64> {
    be_u64(i)
}

pub(crate) fn blob(i: &[u8]) -> Res<'_, Vec<u8>> {
    let (i, n) = be_u32(i)?;
    let (i, b) = take(n as usize)(i)?;
    Ok((i, b.to_vec()))
}

pub(crate) fn string(i: &[u8]) -> Res<'_, String> {
    let (rest, n) = be_u16(i)?;
    let (rest, b) = take(n as usize)(rest)?;
    match std::str::from_utf8(b) {
        Ok(s) => Ok((rest, s.to_owned())),
        Err(_) => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

pub(crate) fn array32(i: &[u8]) -> Res<'_, [u8; 32]> {
    let (i, b) = take(32usize)(i)?;
    let mut a = [0; 32];
    a.copy_from_slice(b);
    Ok((i, a))
}

/// A list: `u16` count then items. Items are parsed one by one, so a huge count
/// over a short payload fails without allocating for the count.
pub(crate) fn list<'a, T>(i: &'a [u8], item: fn(&'a [u8]) -> Res<'a, T>) -> Res<'a, Vec<T>> {
    let (mut i, n) = be_u16(i)?;
    let mut v = Vec::new();
    for _ in 0..n {
        let (rest, t) = item(i)?;
        v.push(t);
        i = rest;
    }
    Ok((i, v))
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    // Longer strings are cut at a character boundary so the receiver still sees UTF-8.
    let mut n = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    let b = &s.as_bytes()[..n];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

pub(crate) fn put_blob(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}
