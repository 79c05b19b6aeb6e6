//! One left-to-right pass over the common shape of a name-addr:
//! `[display-name] "<" sip-or-sips-URI ">" *(";" name ["=" value])`, the display name either
//! tokens separated by SP/HT or a quoted string without escapes, and no other LWS. Anything
//! else returns `None` and goes to the full decoder, which decides it (and names the error);
//! `tests::agrees_with_the_full_decoder` checks both agree.

use super::NameAddr;
use crate::header::{HeaderParams, scan_param};
use crate::text::is_token;
use crate::uri::scan::sip_parts;
use crate::uri::{SipUri, Uri};

/// The fast path of `NameAddr::parse_checked` (see the module docs).
#[inline(always)]
pub(super) fn name_addr(value: &str) -> Option<NameAddr<'_>> {
    let b = value.as_bytes();
    let (display, lt) = match *b.first()? {
        b'<' => (None, 0),
        b'"' => {
            let close = 1 + b.get(1..)?.iter().position(|&c| c == b'"')?;
            let text = b.get(1..close)?;
            if text
                .iter()
                .any(|&c| c == b'\\' || !(0x20..0x7f).contains(&c))
            {
                return None;
            }
            let lt = close + 1 + blanks(b, close + 1);
            (Some(value.get(..=close)?), lt)
        }
        _ => {
            // `*(token LWS)`: token runs separated by SP/HT, up to `<`.
            let mut i = 0;
            let mut end = 0;
            loop {
                let t = i + b.get(i..)?.iter().take_while(|&&c| is_token(c)).count();
                if t == i {
                    break;
                }
                end = t;
                i = t + blanks(b, t);
            }
            (Some(value.get(..end)?), i)
        }
    };
    if b.get(lt) != Some(&b'<') {
        return None;
    }
    // The URI runs to the first `>`, which its scan stops at.
    let (scheme, secure) = match b.get(lt + 1..lt + 5)? {
        b"sip:" => (4, false),
        _ if b.get(lt + 1..lt + 6)? == b"sips:" => (5, true),
        _ => return None,
    };
    let (parts, end) = sip_parts(value.get(lt + 1 + scheme..)?, scheme, secure)?;
    let gt = lt + 1 + scheme + end;
    if b.get(gt) != Some(&b'>') {
        return None;
    }
    let uri = SipUri::from_parts(value.get(lt + 1..gt)?, parts);
    let mut i = gt + 1;
    let mut tag = None;
    while i < b.len() {
        let (name, v, next) = scan_param(value, i)?;
        if tag.is_none() && name.eq_ignore_ascii_case("tag") {
            tag = Some(v);
        }
        i = next;
    }
    Some(NameAddr {
        display,
        uri: Uri::Sip(uri),
        bracketed: true,
        params: HeaderParams {
            raw: value.get(gt + 1..)?,
        },
        tag: tag.flatten(),
    })
}

/// The number of SP/HT bytes from `i`.
fn blanks(b: &[u8], i: usize) -> usize {
    b.get(i..).map_or(0, |r| {
        r.iter().take_while(|&&c| c == b' ' || c == b'\t').count()
    })
}

#[cfg(test)]
mod tests {
    use super::super::NameAddr;

    #[test]
    fn agrees_with_the_full_decoder() {
        let seeds = [
            "Bob <sip:bob@biloxi.example.com>",
            "Alice <sip:alice@atlanta.example.com>;tag=1928301774",
            "<sip:alice@pc33.atlanta.example.com;transport=udp>",
            "\"Mr. Watson\" <sips:watson@worcester.example.com:5061>;tag=a;tag=b",
            "\"A \\\"q\\\"\" <sip:a@b>",
            "\"\" <sip:a@b>",
            "Big  Bob\t<sip:+1-555@gw.example.com;user=phone>;TAG=x;lr",
            "<sip:a@b>;tag",
            "<sip:a@b>;tag;tag=2",
            "<sip:a@b> ;tag=1",
            "< sip:a@b>",
            "<sip:a@b >",
            "<SIP:a@b>",
            "<tel:+1555>",
            "<sip:a@b?h=v>",
            "<sip:%61@b>",
            "sip:a@b;tag=1",
            "Bell, Alexander <sip:a@b>",
            "a\"b <sip:a@b>",
            "<sip:a@[::1]>",
            "<sip:a@b>;x=\"q\"",
            "<sip:a@b>;x=[::1]",
            "<sip:a@b>;=x",
            "<sip:a@b>;x=",
            "<sip:a@b>>",
            "<sip:carol@chicago.example.com>;expires=3600",
            "Carol <sip:carol@192.0.2.7:5070>;tag=887s",
            "\"Carol C.\" <sip:carol@chicago.example.com;lr>",
            "<sips:bob:pw@biloxi.example.com;maddr=192.0.2.3>;tag=z;q=0.7",
        ];
        let alphabet = b"a1.-:;=@<>\"\\ \tz_%?,";
        crate::mutate::check_fast_path(&seeds, alphabet, |s| {
            crate::mutate::debug_pair(super::name_addr(s).map(|f| (f, None)), || {
                let mut violation = None;
                NameAddr::parse_full(s, &mut violation).map(|a| (a, violation))
            })
        });
    }
}
