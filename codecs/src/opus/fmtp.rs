//! The RFC 7587 §6.1 `a=fmtp` parameters of the `opus` media type.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The Opus `a=fmtp` parameters (RFC 7587 §6.1).
///
/// Each field is `None` when the parameter is absent; the RFC default then
/// applies (given per field). [`OpusFmtp::parse`] reads the parameter list
/// that follows the payload type in `a=fmtp:<pt> <parameters>`;
/// [`fmt::Display`] writes the present parameters back in the same form.
/// [`crate::opus::OpusConfig::apply_remote_fmtp`] maps the remote party's
/// parameters to our encoder.
///
/// Parsing rules (RFC 4566 §6 leaves the syntax to the media type):
/// - parameters are `name=value` separated by `;`, with optional whitespace
///   around names, values and separators; names are case-insensitive (media
///   type parameter names are, RFC 6838 §4.3);
/// - unknown parameters, and segments without `=`, are ignored (RFC 4566:
///   unknown fmtp parameters are ignored);
/// - a known parameter that appears twice takes its last value;
/// - a known parameter with a malformed value is [`Error::InvalidParameter`]
///   naming the parameter, with the value when it is a decimal number and
///   `-1` when it is not (empty, signed, fractional or not a number); numbers
///   beyond `i64` are reported as `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpusFmtp {
    /// `maxplaybackrate`: the highest sampling rate the receiver renders, in
    /// Hz (default 48000). Any positive integer is accepted; values between
    /// the Opus rates select the bandwidth below them
    /// ([`crate::opus::OpusBandwidth::for_rate`]).
    pub max_playback_rate: Option<u32>,
    /// `sprop-maxcapturerate`: the highest sampling rate the sender captures,
    /// in Hz (default 48000). Any positive integer.
    pub sprop_max_capture_rate: Option<u32>,
    /// `maxptime`: the longest packet the receiver wants, in ms, 1..=120.
    pub max_ptime: Option<u32>,
    /// `ptime`: the packet duration the receiver prefers, in ms, 1..=120.
    pub ptime: Option<u32>,
    /// `minptime`: the shortest packet the receiver wants, in ms, 1..=120.
    pub min_ptime: Option<u32>,
    /// `maxaveragebitrate`: the highest average bitrate the receiver wants,
    /// in bit/s (default: none). Any positive integer is accepted here; it is
    /// clamped to 6000..=510000 when applied.
    pub max_average_bitrate: Option<u32>,
    /// `stereo`: the receiver prefers stereo (default 0).
    pub stereo: Option<bool>,
    /// `sprop-stereo`: the sender is likely to send stereo (default 0).
    pub sprop_stereo: Option<bool>,
    /// `cbr`: the receiver prefers constant bitrate (default 0).
    pub cbr: Option<bool>,
    /// `useinbandfec`: the receiver can use in-band FEC (default 0).
    pub use_inband_fec: Option<bool>,
    /// `usedtx`: the receiver prefers DTX (default 0).
    pub use_dtx: Option<bool>,
}

/// Where a numeric parameter's value goes and which values it takes.
enum Slot {
    /// A positive rate or bitrate.
    Positive(fn(&mut OpusFmtp) -> &mut Option<u32>),
    /// A packet time, 1..=120 ms.
    Ptime(fn(&mut OpusFmtp) -> &mut Option<u32>),
    /// A 0/1 flag.
    Flag(fn(&mut OpusFmtp) -> &mut Option<bool>),
}

/// The known parameters, by their SDP name.
const PARAMS: [(&str, Slot); 11] = [
    (
        "maxplaybackrate",
        Slot::Positive(|f| &mut f.max_playback_rate),
    ),
    (
        "sprop-maxcapturerate",
        Slot::Positive(|f| &mut f.sprop_max_capture_rate),
    ),
    ("maxptime", Slot::Ptime(|f| &mut f.max_ptime)),
    ("ptime", Slot::Ptime(|f| &mut f.ptime)),
    ("minptime", Slot::Ptime(|f| &mut f.min_ptime)),
    (
        "maxaveragebitrate",
        Slot::Positive(|f| &mut f.max_average_bitrate),
    ),
    ("stereo", Slot::Flag(|f| &mut f.stereo)),
    ("sprop-stereo", Slot::Flag(|f| &mut f.sprop_stereo)),
    ("cbr", Slot::Flag(|f| &mut f.cbr)),
    ("useinbandfec", Slot::Flag(|f| &mut f.use_inband_fec)),
    ("usedtx", Slot::Flag(|f| &mut f.use_dtx)),
];

/// Parses an unsigned decimal number; `Err(reported value)` otherwise.
fn number(value: &str) -> Result<u64, i64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(-1);
    }
    // All digits: the only failure left is overflow.
    value.parse::<u64>().map_err(|_| i64::MAX)
}

fn reported(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl OpusFmtp {
    /// Parses the parameter list of an `a=fmtp` line (the part after the
    /// payload type), e.g. `"minptime=10;useinbandfec=1"`.
    pub fn parse(params: &str) -> Result<Self, Error> {
        let mut fmtp = Self::default();
        for segment in params.split(';') {
            let Some((name, value)) = segment.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let Some((pname, slot)) = PARAMS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let pname: &'static str = pname;
            let bad = |value: i64| Error::InvalidParameter { name: pname, value };
            let n = number(value).map_err(bad)?;
            match slot {
                Slot::Positive(field) => {
                    let v = u32::try_from(n)
                        .ok()
                        .filter(|&v| v > 0)
                        .ok_or_else(|| bad(reported(n)))?;
                    *field(&mut fmtp) = Some(v);
                }
                Slot::Ptime(field) => {
                    let v = u32::try_from(n)
                        .ok()
                        .filter(|v| (1..=120).contains(v))
                        .ok_or_else(|| bad(reported(n)))?;
                    *field(&mut fmtp) = Some(v);
                }
                Slot::Flag(field) => {
                    let v = match n {
                        0 => false,
                        1 => true,
                        other => return Err(bad(reported(other))),
                    };
                    *field(&mut fmtp) = Some(v);
                }
            }
        }
        Ok(fmtp)
    }

    /// Whether no parameter is present.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl FromStr for OpusFmtp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for OpusFmtp {
    /// Writes the present parameters as `name=value` joined by `;`, in the
    /// RFC 7587 §6.1 order (empty when none is present).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut copy = *self;
        let mut first = true;
        for (name, slot) in &PARAMS {
            let value = match slot {
                Slot::Positive(field) | Slot::Ptime(field) => field(&mut copy).map(u64::from),
                Slot::Flag(field) => field(&mut copy).map(u64::from),
            };
            if let Some(value) = value {
                if !first {
                    f.write_str(";")?;
                }
                first = false;
                write!(f, "{name}={value}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_browser_offer() {
        // What WebRTC endpoints typically send.
        let f = OpusFmtp::parse("minptime=10;useinbandfec=1").unwrap();
        assert_eq!(
            f,
            OpusFmtp {
                min_ptime: Some(10),
                use_inband_fec: Some(true),
                ..OpusFmtp::default()
            }
        );
    }

    #[test]
    fn parses_every_parameter() {
        let f = OpusFmtp::parse(
            " MaxPlaybackRate = 16000 ; sprop-maxcapturerate=8000;maxptime=60;ptime=20;\
             minptime=10;maxaveragebitrate=24000;stereo=0;sprop-stereo=1;cbr=1;\
             useinbandfec=0;usedtx=1; ",
        )
        .unwrap();
        assert_eq!(
            f,
            OpusFmtp {
                max_playback_rate: Some(16_000),
                sprop_max_capture_rate: Some(8_000),
                max_ptime: Some(60),
                ptime: Some(20),
                min_ptime: Some(10),
                max_average_bitrate: Some(24_000),
                stereo: Some(false),
                sprop_stereo: Some(true),
                cbr: Some(true),
                use_inband_fec: Some(false),
                use_dtx: Some(true),
            }
        );
        // Display writes them back in RFC order; parsing that is lossless.
        let text = f.to_string();
        assert_eq!(
            text,
            "maxplaybackrate=16000;sprop-maxcapturerate=8000;maxptime=60;ptime=20;\
             minptime=10;maxaveragebitrate=24000;stereo=0;sprop-stereo=1;cbr=1;\
             useinbandfec=0;usedtx=1"
        );
        assert_eq!(OpusFmtp::parse(&text).unwrap(), f);
    }

    #[test]
    fn empty_unknown_and_repeated() {
        assert!(OpusFmtp::parse("").unwrap().is_empty());
        assert!(OpusFmtp::parse(";;  ;").unwrap().is_empty());
        assert_eq!(OpusFmtp::default().to_string(), "");
        let f = OpusFmtp::parse("x-google-min-bitrate=30;flag;usedtx=0;usedtx=1").unwrap();
        assert_eq!(
            f,
            OpusFmtp {
                use_dtx: Some(true),
                ..OpusFmtp::default()
            }
        );
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let cases: [(&str, &str, i64); 14] = [
            ("useinbandfec=2", "useinbandfec", 2),
            ("usedtx=yes", "usedtx", -1),
            ("stereo=", "stereo", -1),
            ("cbr=-1", "cbr", -1),
            ("sprop-stereo=1.0", "sprop-stereo", -1),
            ("maxplaybackrate=0", "maxplaybackrate", 0),
            ("maxplaybackrate=16k", "maxplaybackrate", -1),
            (
                "sprop-maxcapturerate=4294967296",
                "sprop-maxcapturerate",
                4_294_967_296,
            ),
            ("maxaveragebitrate=0", "maxaveragebitrate", 0),
            (
                "maxaveragebitrate=99999999999999999999999",
                "maxaveragebitrate",
                i64::MAX,
            ),
            ("ptime=0", "ptime", 0),
            ("maxptime=121", "maxptime", 121),
            ("minptime=2.5", "minptime", -1),
            ("minptime=+10", "minptime", -1),
        ];
        for (text, name, value) in cases {
            assert_eq!(
                OpusFmtp::parse(text).unwrap_err(),
                Error::InvalidParameter { name, value },
                "{text}"
            );
        }
    }
}
