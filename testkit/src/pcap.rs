//! A tiny classic-pcap reader and writer for UDP captures (golden captures in, captures
//! for tshark or SIPp's `play_pcap_audio` out).

use std::time::Duration;

/// One UDP datagram from a capture.
#[derive(Clone, Debug)]
pub struct UdpRecord {
    /// Capture timestamp relative to the epoch in the file.
    pub ts: Duration,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// UDP payload.
    pub payload: Vec<u8>,
    /// The raw pcap record (header + frame), for rewriting captures.
    pub raw: Vec<u8>,
}

/// A parsed classic pcap file.
pub struct Pcap {
    /// The 24-byte global header.
    pub header: Vec<u8>,
    /// UDP records in file order.
    pub records: Vec<UdpRecord>,
    little: bool,
    nanos: bool,
}

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl Pcap {
    /// Parses classic pcap (µs or ns, either byte order), Ethernet or Linux SLL, IPv4/UDP.
    pub fn parse(data: &[u8]) -> Self {
        assert!(data.len() >= 24, "pcap too short");
        let magic = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let (little, nanos) = match magic {
            0xa1b2_c3d4 => (true, false),
            0xa1b2_3c4d => (true, true),
            0xd4c3_b2a1 => (false, false),
            0x4d3c_b2a1 => (false, true),
            other => panic!("not a pcap file (magic {other:#x})"),
        };
        let rd32 = |b: &[u8], at: usize| {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            if little {
                u32::from_le_bytes(w)
            } else {
                u32::from_be_bytes(w)
            }
        };
        let linktype = rd32(data, 20);
        let mut at = 24;
        let mut records = Vec::new();
        while at + 16 <= data.len() {
            let sec = rd32(data, at);
            let frac = rd32(data, at + 4);
            let incl = rd32(data, at + 8) as usize;
            let frame = &data[at + 16..at + 16 + incl];
            let raw = data[at..at + 16 + incl].to_vec();
            at += 16 + incl;
            let ts = Duration::from_secs(u64::from(sec))
                + if nanos {
                    Duration::from_nanos(u64::from(frac))
                } else {
                    Duration::from_micros(u64::from(frac))
                };
            let mut off = match linktype {
                1 => {
                    let mut o = 12;
                    while u16be(frame, o) == 0x8100 {
                        o += 4;
                    }
                    if u16be(frame, o) != 0x0800 {
                        continue;
                    }
                    o + 2
                }
                113 => {
                    if u16be(frame, 14) != 0x0800 {
                        continue;
                    }
                    16
                }
                101 => 0,
                other => panic!("unsupported link type {other}"),
            };
            let ip = &frame[off..];
            if ip[0] >> 4 != 4 || ip[9] != 17 {
                continue;
            }
            off += usize::from(ip[0] & 0x0f) * 4;
            let udp = &frame[off..];
            let ulen = usize::from(u16be(udp, 4));
            records.push(UdpRecord {
                ts,
                src_port: u16be(udp, 0),
                dst_port: u16be(udp, 2),
                payload: udp[8..ulen.min(udp.len())].to_vec(),
                raw,
            });
        }
        Self {
            header: data[..24].to_vec(),
            records,
            little,
            nanos,
        }
    }

    /// Serialises `records` (with their timestamps possibly changed) as a pcap file.
    pub fn write(&self, records: &[UdpRecord]) -> Vec<u8> {
        let mut out = self.header.clone();
        for r in records {
            let mut raw = r.raw.clone();
            let sec = r.ts.as_secs() as u32;
            let frac = if self.nanos {
                r.ts.subsec_nanos()
            } else {
                r.ts.subsec_micros()
            };
            let (s, f) = if self.little {
                (sec.to_le_bytes(), frac.to_le_bytes())
            } else {
                (sec.to_be_bytes(), frac.to_be_bytes())
            };
            raw[0..4].copy_from_slice(&s);
            raw[4..8].copy_from_slice(&f);
            out.extend_from_slice(&raw);
        }
        out
    }
}

/// Writes a classic pcap (Ethernet/IPv4/UDP, 127.0.0.1 → 127.0.0.1) of
/// `(timestamp, src port, dst port, payload)` datagrams.
pub fn write_udp_pcap(datagrams: &[(Duration, u16, u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (ts, sport, dport, payload) in datagrams {
        let udp_len = 8 + payload.len();
        let ip_len = 20 + udp_len;
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        let sum: u32 = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!(folded as u16)).to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&sport.to_be_bytes());
        frame.extend_from_slice(&dport.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(payload);
        out.extend_from_slice(&(ts.as_secs() as u32).to_le_bytes());
        out.extend_from_slice(&ts.subsec_micros().to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}
