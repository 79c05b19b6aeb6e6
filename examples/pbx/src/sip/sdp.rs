//! What the B2BUA needs from SDP when it relays media: the offered audio address and codec,
//! and the same description with our relay address in place of the phone's.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use codecs::CodecKind;
use rtp_media::sdp::{Connection, SessionDescription};

/// The first audio stream of an SDP body: where the phone receives and its first codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    /// The phone's RTP address (`None` when the address is not an IP, e.g. a hold 0.0.0.0).
    pub remote: Option<SocketAddr>,
    /// The first codec we can terminate.
    pub codec: CodecKind,
    /// Its payload type.
    pub payload_type: u8,
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
    Some(Audio {
        remote: ip.map(|ip| SocketAddr::new(ip, m.port)),
        codec,
        payload_type,
    })
}

/// `body` with every connection address set to `addr`'s IP and the first audio port to its
/// port: the phone then sends its RTP to the relay.
pub fn rewrite(body: &[u8], addr: SocketAddr) -> Option<Bytes> {
    let mut sdp = SessionDescription::parse(std::str::from_utf8(body).ok()?).ok()?;
    let conn = Connection {
        address_type: if addr.is_ipv4() { "IP4" } else { "IP6" }.to_owned(),
        address: addr.ip().to_string(),
    };
    if sdp.connection.is_some() {
        sdp.connection = Some(conn.clone());
    }
    let m = sdp
        .media
        .iter_mut()
        .find(|m| m.kind == "audio" && m.port != 0)?;
    m.port = addr.port();
    if m.connection.is_some() || sdp.connection.is_none() {
        m.connection = Some(conn);
    }
    Some(Bytes::from(sdp.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn mv36_offer_is_read_and_pointed_at_the_relay() {
        let a = audio(OFFER).expect("audio");
        assert_eq!(a.remote, Some("192.0.2.10:40000".parse().expect("addr")));
        assert_eq!((a.codec, a.payload_type), (CodecKind::Pcma, 8));
        let relay: SocketAddr = "127.0.0.1:31000".parse().expect("addr");
        let out = rewrite(OFFER, relay).expect("rewritten");
        let b = audio(&out).expect("still audio");
        assert_eq!(b.remote, Some(relay));
        assert_eq!(
            (b.codec, b.payload_type),
            (CodecKind::Pcma, 8),
            "formats untouched"
        );
        assert!(String::from_utf8_lossy(&out).contains("telephone-event"));
    }
}
