//! SRTP through the relay (MV-40, RFC 4568 SDES). A caller that offers RTP/SAVP gets its
//! call relayed with SRTP on every leg that accepts it: each leg has the phone's key (what
//! it sends with) and one of ours, made per leg, so no phone ever learns another's key.
//! Without the Secure VoIP licence (or with `[media] srtp = false`), or with keys we cannot
//! use (DTLS-SRTP only), the offer is refused with 488.

use rtp_media::sdes::CryptoAttribute;
use rtp_media::srtp::SrtpProfile;

use super::sdp::{self, Srtp};
use super::*;

impl Pbx {
    /// Whether SRTP calls may be relayed now (MV-40).
    pub(super) fn srtp_allowed(&self) -> bool {
        self.settings.srtp && self.settings.licence.secure_voip()
    }

    /// For the caller's `offer`: its key and our keys for leg A and leg B when it asks for
    /// SRTP, `None` for plain RTP, `Err` when SRTP is asked for and cannot be had.
    pub(super) fn caller_keys(
        &self,
        offer: &[u8],
    ) -> Result<Option<(CryptoAttribute, [CryptoAttribute; 2])>, ()> {
        match sdp::srtp(offer) {
            None | Some(Srtp::Plain) => Ok(None),
            Some(Srtp::Sdes(phone)) if self.srtp_allowed() => {
                let ours = [
                    new_key(phone.tag, phone.profile)?,
                    new_key(1, phone.profile)?,
                ];
                Ok(Some((phone, ours)))
            }
            Some(_) => Err(()),
        }
    }
}

/// A fresh key for `profile`, with `tag` (an answer repeats the offer's tag).
pub(super) fn new_key(tag: u32, profile: SrtpProfile) -> Result<CryptoAttribute, ()> {
    let len = profile.master_key_len() + profile.master_salt_len();
    let material: [u8; 30] = rand::random();
    CryptoAttribute::new(tag, profile, &material[..len]).map_err(|_| ())
}

/// Leg keys from a phone's SDP `body` and our key for that leg, when both exist.
pub(super) fn leg_keys(body: &[u8], ours: Option<&CryptoAttribute>) -> Option<LegKeys> {
    match (sdp::srtp(body), ours) {
        (Some(Srtp::Sdes(phone)), Some(ours)) => Some(LegKeys {
            phone,
            ours: ours.clone(),
        }),
        _ => None,
    }
}

/// The keys of leg `x` after a new party answered with `body`: secure when it answered our
/// key with its own, plain otherwise (our key is then dropped from the leg).
pub(super) fn retarget_keys(
    relay: Option<&mut [sdp::Local; 2]>,
    x: usize,
    body: &[u8],
) -> Option<LegKeys> {
    let local = relay?.get_mut(x)?;
    let keys = leg_keys(body, local.crypto.as_ref());
    if keys.is_none() {
        local.crypto = None;
    }
    keys
}
