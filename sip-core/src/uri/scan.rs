//! One left-to-right pass over the common shape of a SIP URI body:
//! `[user[:password]@]host[:port]*(;name[=value])`, with no `%` escapes, no IPv6 reference
//! and no `?headers`. Anything else returns `None` and goes to the full parser, which decides
//! it (and names the error). Only bodies the full parser accepts, with the same result, come
//! out of here: `tests::agrees_with_the_full_parser` checks that.

use super::parse_ipv4;
use super::{HOST_ALPHA, HOST_CLASS, HOST_DASH, HOST_DOT, Host, HostKind, Part, SipParts, SipUri};
use super::{is_param_char, is_password_char, is_user_char};

/// Bits of [`CLASS`].
const USER: u8 = 1;
const PASSWORD: u8 = 2;
const PARAM: u8 = 4;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        // `%` starts an escape: never a plain member here.
        if b != b'%' {
            t[i] = bit(is_user_char(b), USER)
                | bit(is_password_char(b), PASSWORD)
                | bit(is_param_char(b), PARAM);
        }
        i += 1;
    }
    t
};

const fn bit(set: bool, bit: u8) -> u8 {
    if set { bit } else { 0 }
}

/// Index of the first byte of `b` from `i` not in `class`.
fn skip(b: &[u8], mut i: usize, class: u8) -> usize {
    while let Some(&c) = b.get(i) {
        if CLASS[c as usize] & class == 0 {
            break;
        }
        i += 1;
    }
    i
}

/// The fast path of `SipUri::parse_body` (see the module docs).
pub(super) fn sip_body<'a>(raw: &'a str, body: &'a str, secure: bool) -> Option<SipUri<'a>> {
    // Offsets in `body` become offsets in `raw` (`body` ends `raw`).
    let off = raw.len().checked_sub(body.len())?;
    let (parts, end) = sip_parts(body, off, secure)?;
    (end == body.len()).then_some(SipUri { raw, parts })
}

/// The common shape of a URI body at the start of `body`: its parts (offsets in `body`
/// plus `off`) and where the scan stopped, after the parameters. The caller checks what
/// stopped it: the end of `body`, or the `>` closing a name-addr (no URI part holds `>`).
pub(crate) fn sip_parts(body: &str, off: usize, secure: bool) -> Option<(SipParts, usize)> {
    let b = body.as_bytes();
    let part = |start: usize, end: usize| Part::new(off + start, off + end);
    // userinfo, when an `@` ends a run of user (and password) characters.
    let u = skip(b, 0, USER);
    let (user, password, host_start) = match b.get(u) {
        Some(b'@') if u > 0 => (Some(part(0, u)?), None, u + 1),
        Some(b':') if u > 0 => {
            let p = skip(b, u + 1, PASSWORD);
            if b.get(p) == Some(&b'@') {
                (Some(part(0, u)?), Some(part(u + 1, p)?), p + 1)
            } else {
                (None, None, 0)
            }
        }
        Some(b'%' | b'@') => return None,
        _ => (None, None, 0),
    };
    let (host, host_end) = host(b, host_start, body)?;
    let mut i = host_end;
    let port = if b.get(i) == Some(&b':') {
        let start = i + 1;
        i = start;
        let mut v: u32 = 0;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + u32::from(c - b'0');
            i += 1;
            if i - start > 5 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        Some(u16::try_from(v).ok()?)
    } else {
        None
    };
    let params_start = i;
    // `;` name [ `=` value ], both non-empty runs of parameter characters.
    while b.get(i) == Some(&b';') {
        let n = skip(b, i + 1, PARAM);
        if n == i + 1 {
            return None;
        }
        i = n;
        if b.get(i) == Some(&b'=') {
            let v = skip(b, i + 1, PARAM);
            if v == i + 1 {
                return None;
            }
            i = v;
        }
    }
    let parts = SipParts {
        secure,
        user,
        password,
        host: HostKind::from(host),
        host_raw: part(host_start, host_end)?,
        port,
        params: part(params_start, i)?,
        headers: None,
    };
    Some((parts, i))
}

/// A host name or IPv4 address starting at `start` in `body` (`b` is its bytes): the host
/// and where it ends. `None` when the run of host characters is neither.
pub(crate) fn host<'a>(b: &[u8], start: usize, body: &'a str) -> Option<(Host<'a>, usize)> {
    // RFC 3261 `hostname = *( domainlabel "." ) toplabel [ "." ]`: no label starts with `-`
    // or is empty, none ends in `-`, the top label starts with ALPHA.
    let mut i = start;
    let mut prev = HOST_DOT;
    let mut label_start = start;
    let mut alpha = false;
    while let Some(&c) = b.get(i) {
        let k = HOST_CLASS[c as usize];
        if k == 0 {
            break;
        }
        if k >= HOST_DASH {
            if prev == HOST_DOT || (k == HOST_DOT && prev == HOST_DASH) {
                return None;
            }
            if k == HOST_DOT {
                label_start = i + 1;
            }
        } else if k == HOST_ALPHA {
            alpha = true;
        }
        prev = k;
        i += 1;
    }
    let text = body.get(start..i)?;
    if !alpha {
        return parse_ipv4(text).map(|a| (Host::Ipv4(a), i));
    }
    // A trailing dot ends the name: the top label is the one before it.
    if prev == HOST_DOT {
        let top = b.get(start..i - 1)?;
        label_start = top
            .iter()
            .rposition(|&c| c == b'.')
            .map_or(start, |d| start + d + 1);
    }
    let name_len = i - start - usize::from(prev == HOST_DOT);
    let top_ok = prev != HOST_DASH
        && b.get(label_start)
            .is_some_and(|&c| HOST_CLASS[c as usize] == HOST_ALPHA);
    (top_ok && name_len <= 255).then_some((Host::Name(text), i))
}

#[cfg(test)]
mod tests {
    use super::super::SipUri;

    /// The slow path alone (the fast path bypassed).
    fn full(body: &str) -> Result<SipUri<'_>, crate::error::UriError> {
        SipUri::parse_body_full(body, body, false)
    }

    #[test]
    fn agrees_with_the_full_parser() {
        let seeds = [
            "alice@atlanta.example.com",
            "alice:secret@atlanta.example.com:5060;transport=tcp;lr",
            "bob@192.0.2.4",
            "bob@192.0.2.4.",
            "pc33.atlanta.example.com;transport=udp",
            "h:5060",
            "example.com.",
            "a-b.c-d.e",
            "+1-212-555-1212:1234@gateway.com;user=phone",
            "u;x=y@h",
            "u:p;x@h",
            "1.2.3",
            "999.2.3.4",
            "-a.com",
            "a-.com",
            "a..com",
            "a.1com",
            "a.com:65535",
            "a.com:65536",
            "a.com:000005060",
            "a.com;",
            "a.com;=x",
            "a.com;x=",
            "a.com;x=y;z",
            "@a.com",
            ":p@a.com",
            "u:@a.com",
            "u@",
            "u@:5060",
            "a.com?h=v",
            "us%65r@a.com",
            "[2001:db8::1]:5060",
            "a.com;maddr=[2001:db8::1]",
            "",
        ];
        let alphabet = b"a1.-:;=@%?[]/&+$,_~";
        crate::mutate::check_fast_path(&seeds, alphabet, |s| {
            crate::mutate::debug_pair(super::sip_body(s, s, false), || full(s))
        });
    }
}
