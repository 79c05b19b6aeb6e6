//! One pass over the common shape of a Via element: `SIP/2.0/transport SP host[:port]`
//! followed by `;name[=value]` parameters, with a host name or IPv4 address, no other LWS and
//! no quoted value. Anything else returns `None` and goes to `Via::decode_full`, which
//! decides it (and names the error); `tests::agrees_with_the_full_decoder` checks both agree.

use super::{HeaderParams, Transport, Via, bad_param};
use crate::header::scan_param;
use crate::text::is_token;

/// The end of the run of bytes in `class` from `i`.
fn run(b: &[u8], mut i: usize, class: fn(u8) -> bool) -> usize {
    while b.get(i).is_some_and(|&c| class(c)) {
        i += 1;
    }
    i
}

/// The fast path of `Via::decode` (see the module docs).
pub(super) fn via(value: &str) -> Option<Via<'_>> {
    let b = value.as_bytes();
    if !b.get(..8)?.eq_ignore_ascii_case(b"SIP/2.0/") {
        return None;
    }
    let t_end = run(b, 8, is_token);
    if t_end == 8 || b.get(t_end) != Some(&b' ') {
        return None;
    }
    let host_start = t_end + 1;
    let (host, mut i) = crate::uri::scan::host(b, host_start, value)?;
    let host_raw = value.get(host_start..i)?;
    let port = if b.get(i) == Some(&b':') {
        let start = i + 1;
        i = run(b, start, |c| c.is_ascii_digit());
        if i == start || i - start > 5 {
            return None;
        }
        Some(value.get(start..i)?.parse::<u16>().ok()?)
    } else {
        None
    };
    let params_start = i;
    let mut branch = None;
    while i < b.len() {
        let (name, v, next) = scan_param(value, i)?;
        i = next;
        if bad_param(name, v, &mut branch) {
            return None;
        }
    }
    Some(Via {
        transport: Transport::parse(value.get(8..t_end)?),
        host,
        host_raw,
        port,
        params: HeaderParams {
            raw: value.get(params_start..)?,
        },
        branch: branch.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::Via;

    #[test]
    fn agrees_with_the_full_decoder() {
        let seeds = [
            "SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport",
            "SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.9;rport=5062",
            "sip/2.0/tls h.example.com.;ttl=16;maddr=224.2.0.1",
            "SIP/2.0/UNKNOWN h;branch=z9hG4bK1;branch=z9hG4bK2",
            "SIP/2.0/WSS a-b.c:65535",
            "SIP/2.0/UDP h:65536",
            "SIP/2.0/UDP h;received=[2001:db8::1]",
            "SIP/2.0/UDP h;ttl=256",
            "SIP/2.0/UDP h;branch",
            "SIP/2.0/UDP h;x=\"q\"",
            "SIP/2.0/UDP  h",
            "SIP/2.0/UDP h ;branch=z9hG4bK1",
            "SIP/3.0/UDP h",
            "SIP/2.0/UDP [2001:db8::1]:5060",
            "SIP/2.0/UDP h_x",
            "SIP/2.0/UDP 999.1.1.1",
        ];
        let alphabet = b"a1.-:;=@%[]\" z_";
        crate::mutate::check_fast_path(&seeds, alphabet, |s| {
            crate::mutate::debug_pair(super::via(s), || Via::decode_full(s))
        });
    }
}
