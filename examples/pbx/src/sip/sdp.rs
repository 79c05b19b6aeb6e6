//! What the B2BUA needs from SDP when it relays media: the offered audio address and codec,
//! the same description with our relay address in place of the phone's, the offer to the
//! callee widened with the codecs the relay can transcode, and the answer to the caller
//! narrowed back to the caller's codec when the callee chose another one.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use codecs::CodecKind;
use rtp_media::sdes::CryptoAttribute;
use rtp_media::sdp::{Attribute, Connection, MediaDescription, SessionDescription};

/// The first audio stream of an SDP body: where the phone receives and its first codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    /// The phone's RTP address (`None` when the address is not an IP, e.g. a hold 0.0.0.0).
    pub remote: Option<SocketAddr>,
    /// The first codec we can terminate.
    pub codec: CodecKind,
    /// Its payload type.
    pub payload_type: u8,
    /// The RFC 4733 `telephone-event` payload type, if offered.
    pub telephone_event: Option<u8>,
}

/// What a phone sends its media to on one leg: the relay's address and, when that leg uses
/// SRTP, the key we send with (RFC 4568 SDES: each side declares the key it sends with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// The relay's address for the leg.
    pub addr: SocketAddr,
    /// Our `a=crypto` for the leg, when it is secure.
    pub crypto: Option<CryptoAttribute>,
}

impl Local {
    /// A plain RTP leg at `addr`.
    pub const fn plain(addr: SocketAddr) -> Self {
        Self { addr, crypto: None }
    }
}

/// How an audio stream is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Srtp {
    /// RTP/AVP: plain RTP.
    Plain,
    /// RTP/SAVP with SDES: the first `a=crypto` with a suite we support.
    Sdes(CryptoAttribute),
    /// RTP/SAVP (or SAVPF) without a key we can use (e.g. DTLS-SRTP only).
    Unsupported,
}

/// How the audio stream of `body` is protected (`None` without an audio stream).
pub fn srtp(body: &[u8]) -> Option<Srtp> {
    let sdp = SessionDescription::parse(std::str::from_utf8(body).ok()?).ok()?;
    let m = sdp
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0)?;
    if !m.protocol.to_ascii_uppercase().contains("SAVP") {
        return Some(Srtp::Plain);
    }
    let key = m
        .attributes
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("crypto"))
        .find_map(|a| CryptoAttribute::parse(a.value.as_deref()?).ok());
    Some(key.map_or(Srtp::Unsupported, Srtp::Sdes))
}

fn codec_of(encoding: &str) -> Option<CodecKind> {
    Some(match encoding.to_ascii_uppercase().as_str() {
        "PCMU" => CodecKind::Pcmu,
        "PCMA" => CodecKind::Pcma,
        "G722" => CodecKind::G722,
        "G729" => CodecKind::G729,
        "OPUS" => CodecKind::Opus,
        _ => return None,
    })
}

/// The audio stream of `body`, if it has one with a codec we know.
pub fn audio(body: &[u8]) -> Option<Audio> {
    let sdp = SessionDescription::parse(std::str::from_utf8(body).ok()?).ok()?;
    let m = sdp
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0)?;
    let conn = m.connection.as_ref().or(sdp.connection.as_ref())?;
    let ip: Option<IpAddr> = conn
        .address
        .parse()
        .ok()
        .filter(|ip: &IpAddr| !ip.is_unspecified());
    let (codec, payload_type) = m.payload_types().find_map(|pt| {
        let map = m.rtpmap(pt)?;
        codec_of(&map.encoding).map(|c| (c, pt))
    })?;
    // Events run on the audio stream's clock (RFC 4733): prefer the telephone-event that does.
    let clock = codec.descriptor().rtp_clock_rate;
    let events: Vec<(u8, u32)> = telephone_events(m).collect();
    let telephone_event = events
        .iter()
        .find(|e| e.1 == clock)
        .or(events.first())
        .map(|e| e.0);
    Some(Audio {
        remote: ip.map(|ip| SocketAddr::new(ip, m.port)),
        codec,
        payload_type,
        telephone_event,
    })
}

/// The codecs the relay can transcode, as offered to a callee: (kind, static payload type or
/// `None` for a dynamic one, rtpmap encoding, fmtp).
const TRANSCODABLE: [(CodecKind, Option<u8>, &str, Option<&str>); 5] = [
    (CodecKind::Pcmu, Some(0), "PCMU/8000", None),
    (CodecKind::Pcma, Some(8), "PCMA/8000", None),
    (CodecKind::G722, Some(9), "G722/8000", None),
    (CodecKind::G729, Some(18), "G729/8000", Some("annexb=no")),
    (
        CodecKind::Opus,
        None,
        "opus/48000/2",
        Some("useinbandfec=1"),
    ),
];

fn audio_mut(sdp: &mut SessionDescription) -> Option<&mut MediaDescription> {
    sdp.media
        .iter_mut()
        .find(|m| m.kind == "audio" && m.port != 0)
}

/// The telephone-event formats of `m`: (payload type, clock rate).
fn telephone_events(m: &MediaDescription) -> impl Iterator<Item = (u8, u32)> + '_ {
    m.payload_types().filter_map(|pt| {
        let r = m.rtpmap(pt)?;
        r.encoding
            .eq_ignore_ascii_case("telephone-event")
            .then_some((pt, r.clock_rate))
    })
}

fn codecs_in(m: &MediaDescription) -> Vec<CodecKind> {
    m.payload_types()
        .filter_map(|pt| codec_of(&m.rtpmap(pt)?.encoding))
        .collect()
}

/// The caller's offer for the callee: pointed at the relay (`to`), with the codecs of
/// `offer` (`[media] codecs`, in that order) that the caller did not offer appended after
/// the caller's own, so a callee that shares a codec with the caller picks it and one that
/// does not can still answer through transcoding.
pub fn widen(body: &[u8], to: &Local, offer: &[CodecKind]) -> Option<Bytes> {
    let text = rewrite(body, to)?;
    let mut sdp = SessionDescription::parse(std::str::from_utf8(&text).ok()?).ok()?;
    let m = audio_mut(&mut sdp)?;
    let have = codecs_in(m);
    if have.is_empty() {
        return Some(text); // nothing we can terminate: leave the offer alone
    }
    let used: Vec<u8> = m.payload_types().collect();
    let mut dynamic = (96u8..128).filter(|pt| !used.contains(pt));
    let added = offer
        .iter()
        .filter_map(|k| TRANSCODABLE.iter().find(|t| t.0 == *k).copied());
    for (kind, pt, map, fmtp) in added {
        if have.contains(&kind) {
            continue;
        }
        let Some(pt) = pt.or_else(|| dynamic.next()) else {
            continue;
        };
        // Audio formats go before telephone-event, which stays last.
        let at = m
            .formats
            .iter()
            .position(|f| {
                f.parse::<u8>()
                    .ok()
                    .and_then(|p| m.rtpmap(p))
                    .is_some_and(|r| r.encoding.eq_ignore_ascii_case("telephone-event"))
            })
            .unwrap_or(m.formats.len());
        m.formats.insert(at, pt.to_string());
        m.attributes
            .push(Attribute::value("rtpmap", format!("{pt} {map}")));
        if let Some(f) = fmtp {
            m.attributes
                .push(Attribute::value("fmtp", format!("{pt} {f}")));
        }
    }
    // Events at 8 kHz, for a callee that picks a narrowband codec: the relay converts
    // between them and whatever the caller does for DTMF (in band or other events).
    if !telephone_events(m).any(|(_, clock)| clock == 8000) {
        let used: Vec<u8> = m.payload_types().collect();
        if let Some(pt) = std::iter::once(101)
            .chain(96..128)
            .find(|pt| !used.contains(pt))
        {
            m.formats.push(pt.to_string());
            m.attributes.push(Attribute::value(
                "rtpmap",
                format!("{pt} telephone-event/8000"),
            ));
            m.attributes
                .push(Attribute::value("fmtp", format!("{pt} 0-16")));
        }
    }
    Some(Bytes::from(sdp.to_string()))
}

/// The callee's answer for the caller, pointed at the relay (`addr`). When the callee chose
/// another codec or telephone-event than `caller` (the caller's first), the audio formats
/// become the caller's codec and telephone-event, with their rtpmap/fmtp lines from the
/// caller's `offer`.
pub fn narrow(answer: &[u8], offer: &[u8], caller: &Audio, to: &Local) -> Option<Bytes> {
    let text = rewrite(answer, to)?;
    let callee = audio(&text)?;
    if (callee.codec, callee.payload_type, callee.telephone_event)
        == (caller.codec, caller.payload_type, caller.telephone_event)
    {
        return Some(text);
    }
    restrict(&text, offer, caller)
}

/// The PBX's own answer to `offer` (the echo test): the phone's first codec and its
/// telephone-event, at `addr`, with an origin line of ours and `a=ptime:ptime_ms`.
pub fn answer_own(offer: &[u8], phone: &Audio, addr: SocketAddr, ptime_ms: u32) -> Option<Bytes> {
    let text = rewrite(offer, &Local::plain(addr))?;
    let mut sdp = SessionDescription::parse(std::str::from_utf8(&text).ok()?).ok()?;
    sdp.origin.username = "pbxkit".to_owned();
    sdp.origin.address_type = if addr.is_ipv4() { "IP4" } else { "IP6" }.to_owned();
    sdp.origin.address = addr.ip().to_string();
    let m = audio_mut(&mut sdp)?;
    m.attributes
        .retain(|a| !a.name.eq_ignore_ascii_case("ptime"));
    m.attributes
        .push(Attribute::value("ptime", ptime_ms.to_string()));
    restrict(sdp.to_string().as_bytes(), offer, phone)
}

/// `text` with its audio formats cut down to `keep`'s codec and telephone-event, with their
/// rtpmap/fmtp lines as `defining` (the SDP that introduced those payload types) has them.
fn restrict(text: &[u8], defining: &[u8], keep: &Audio) -> Option<Bytes> {
    let caller = keep;
    let offer = SessionDescription::parse(std::str::from_utf8(defining).ok()?).ok()?;
    let om = offer
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0)?;
    let mut sdp = SessionDescription::parse(std::str::from_utf8(text).ok()?).ok()?;
    let m = audio_mut(&mut sdp)?;
    let keep: Vec<u8> = std::iter::once(caller.payload_type)
        .chain(caller.telephone_event)
        .collect();
    m.formats = keep.iter().map(u8::to_string).collect();
    m.attributes
        .retain(|a| !matches!(a.name.to_ascii_lowercase().as_str(), "rtpmap" | "fmtp"));
    for &pt in &keep {
        if let Some(r) = om.rtpmap(pt) {
            let ch = if r.channels == 1 {
                String::new()
            } else {
                format!("/{}", r.channels)
            };
            m.attributes.push(Attribute::value(
                "rtpmap",
                format!("{pt} {}/{}{ch}", r.encoding, r.clock_rate),
            ));
        }
        if let Some(f) = om.fmtp(pt) {
            m.attributes
                .push(Attribute::value("fmtp", format!("{pt} {f}")));
        }
    }
    Some(Bytes::from(sdp.to_string()))
}

/// `body` with every connection address set to the leg's relay IP and the first audio port to
/// its port, so the phone sends its RTP to the relay; the audio stream's keys become ours for
/// a secure leg (RTP/SAVP), and a plain leg carries none (RTP/AVP).
pub fn rewrite(body: &[u8], to: &Local) -> Option<Bytes> {
    let addr = to.addr;
    let mut sdp = SessionDescription::parse(std::str::from_utf8(body).ok()?).ok()?;
    let conn = Connection {
        address_type: if addr.is_ipv4() { "IP4" } else { "IP6" }.to_owned(),
        address: addr.ip().to_string(),
    };
    if sdp.connection.is_some() {
        sdp.connection = Some(conn.clone());
    }
    let session_level = sdp.connection.is_some();
    let m = audio_mut(&mut sdp)?;
    m.port = addr.port();
    if m.connection.is_some() || !session_level {
        m.connection = Some(conn);
    }
    let had_keys = m.protocol.to_ascii_uppercase().contains("SAVP");
    m.attributes
        .retain(|a| !a.name.eq_ignore_ascii_case("crypto"));
    match &to.crypto {
        Some(c) => {
            m.protocol = "RTP/SAVP".to_owned();
            m.attributes.push(Attribute::value("crypto", c.to_string()));
        }
        None if had_keys => m.protocol = "RTP/AVP".to_owned(),
        None => {}
    }
    Some(Bytes::from(sdp.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CodecKind; 5] = [
        CodecKind::Pcmu,
        CodecKind::Pcma,
        CodecKind::G722,
        CodecKind::G729,
        CodecKind::Opus,
    ];

    #[test]
    fn widening_adds_only_the_configured_codecs_in_their_order() {
        let relay: SocketAddr = "127.0.0.1:31002".parse().expect("addr");
        let mine = [CodecKind::G722, CodecKind::Pcmu, CodecKind::Opus];
        let out = widen(OFFER, &Local::plain(relay), &mine).expect("widened");
        let text = String::from_utf8_lossy(&out).into_owned();
        // PCMA and PCMU are the caller's; G722 and Opus are added, G.729 is not configured.
        assert!(
            text.contains("m=audio 31002 RTP/AVP 8 0 9 96 101\r\n"),
            "{text}"
        );
        assert!(!text.contains("G729"), "{text}");
    }

    const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn mv36_offer_is_read_and_pointed_at_the_relay() {
        let a = audio(OFFER).expect("audio");
        assert_eq!(a.remote, Some("192.0.2.10:40000".parse().expect("addr")));
        assert_eq!((a.codec, a.payload_type), (CodecKind::Pcma, 8));
        let relay: SocketAddr = "127.0.0.1:31000".parse().expect("addr");
        let out = rewrite(OFFER, &Local::plain(relay)).expect("rewritten");
        let b = audio(&out).expect("still audio");
        assert_eq!(b.remote, Some(relay));
        assert_eq!(
            (b.codec, b.payload_type),
            (CodecKind::Pcma, 8),
            "formats untouched"
        );
        assert!(String::from_utf8_lossy(&out).contains("telephone-event"));
    }

    const OPUS_ONLY: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 96 97\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:97 telephone-event/48000\r\n";
    const PCMU_ANSWER: &[u8] = b"v=0\r\no=- 7 7 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn widened_offer_keeps_the_callers_codecs_first_and_adds_the_transcodable_ones() {
        let relay: SocketAddr = "127.0.0.1:31002".parse().expect("addr");
        let out = widen(OPUS_ONLY, &Local::plain(relay), &ALL).expect("widened");
        let sdp = SessionDescription::parse(std::str::from_utf8(&out).expect("utf8")).expect("sdp");
        let m = &sdp.media[0];
        let pts: Vec<u8> = m.payload_types().collect();
        // Opus first (the caller's), then PCMU, PCMA, G722, G729, the caller's
        // telephone-event, and one at 8 kHz for a narrowband callee.
        assert_eq!(pts, [96, 0, 8, 9, 18, 97, 101]);
        assert_eq!(m.rtpmap(101).map(|r| r.clock_rate), Some(8000));
        assert_eq!(m.fmtp(18), Some("annexb=no"));
        assert_eq!(
            audio(&out).map(|a| (a.codec, a.remote)),
            Some((CodecKind::Opus, Some(relay)))
        );
        // A PCMU offer gets Opus on a free dynamic type, not one the caller uses.
        let out = widen(OFFER, &Local::plain(relay), &ALL).expect("widened");
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.contains("a=rtpmap:96 opus/48000/2"), "{text}");
        assert!(
            text.contains("m=audio 31002 RTP/AVP 8 0 9 18 96 101"),
            "{text}"
        );
    }

    #[test]
    fn narrowed_answer_gives_the_caller_its_own_codec_and_events() {
        let relay: SocketAddr = "127.0.0.1:31000".parse().expect("addr");
        let caller = audio(OPUS_ONLY).expect("caller");
        assert_eq!(caller.telephone_event, Some(97));
        let out = narrow(PCMU_ANSWER, OPUS_ONLY, &caller, &Local::plain(relay)).expect("narrowed");
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.contains("m=audio 31000 RTP/AVP 96 97\r\n"), "{text}");
        assert!(text.contains("a=rtpmap:96 opus/48000/2\r\n"), "{text}");
        assert!(text.contains("a=fmtp:96 useinbandfec=1\r\n"), "{text}");
        assert!(
            text.contains("a=rtpmap:97 telephone-event/48000\r\n"),
            "{text}"
        );
        assert!(!text.contains("PCMU"), "{text}");
        // Same codec on both sides: only the address changes.
        let same = narrow(
            OFFER,
            OFFER,
            &audio(OFFER).expect("a"),
            &Local::plain(relay),
        )
        .expect("same");
        assert_eq!(same, rewrite(OFFER, &Local::plain(relay)).expect("rewrite"));
    }

    const PCMU_ONLY: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";

    #[test]
    fn a_caller_without_events_is_offered_none_back_but_the_callee_gets_them() {
        let relay: SocketAddr = "127.0.0.1:31000".parse().expect("addr");
        let wide = widen(PCMU_ONLY, &Local::plain(relay), &ALL).expect("widened");
        let text = String::from_utf8_lossy(&wide).into_owned();
        assert!(
            text.contains("m=audio 31000 RTP/AVP 0 8 9 18 96 101\r\n"),
            "{text}"
        );
        assert!(
            text.contains("a=rtpmap:101 telephone-event/8000\r\n"),
            "{text}"
        );
        assert!(text.contains("a=fmtp:101 0-16\r\n"), "{text}");
        // The callee answers PCMU with events: the caller, which has none, gets PCMU alone.
        let caller = audio(PCMU_ONLY).expect("caller");
        assert_eq!(caller.telephone_event, None);
        let out = narrow(PCMU_ANSWER, PCMU_ONLY, &caller, &Local::plain(relay)).expect("narrowed");
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.contains("m=audio 31000 RTP/AVP 0\r\n"), "{text}");
        assert!(!text.contains("telephone-event"), "{text}");
    }

    #[test]
    fn the_telephone_event_on_the_codecs_clock_is_chosen() {
        let two = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 97 101\r\na=rtpmap:97 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n";
        assert_eq!(audio(two).and_then(|a| a.telephone_event), Some(101));
    }

    const SAVP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

    #[test]
    fn mv40_srtp_keys_are_read_and_replaced_by_ours() {
        let Some(Srtp::Sdes(theirs)) = srtp(SAVP) else {
            panic!("SDES offer not recognised");
        };
        assert_eq!(theirs.tag, 1);
        assert_eq!(srtp(OFFER), Some(Srtp::Plain));
        let dtls = String::from_utf8_lossy(SAVP).replace("a=crypto", "a=fingerprint");
        assert_eq!(srtp(dtls.as_bytes()), Some(Srtp::Unsupported));
        // A secure leg gets our key, never the phone's.
        let ours = CryptoAttribute::new(1, theirs.profile, &[7; 30]).expect("key");
        let relay: SocketAddr = "127.0.0.1:31000".parse().expect("addr");
        let leg = Local {
            addr: relay,
            crypto: Some(ours.clone()),
        };
        let text = String::from_utf8_lossy(&rewrite(SAVP, &leg).expect("rewritten")).into_owned();
        assert!(text.contains("m=audio 31000 RTP/SAVP 0\r\n"), "{text}");
        assert!(text.contains(&format!("a=crypto:{ours}\r\n")), "{text}");
        assert_eq!(text.matches("a=crypto").count(), 1, "{text}");
        // A plain leg carries no key and says RTP/AVP.
        let text =
            String::from_utf8_lossy(&rewrite(SAVP, &Local::plain(relay)).expect("rw")).into_owned();
        assert!(
            text.contains("RTP/AVP 0") && !text.contains("crypto"),
            "{text}"
        );
    }
}
