//! N-party conference mixer over linear PCM frames (MV-37).
//!
//! Each party supplies one frame per tick with [`Mixer::set_input`]; after
//! [`Mixer::mix`] each party reads what it hears with [`Mixer::output`]:
//! the sum of everyone it may hear *minus itself*, accumulated in 32 bits and
//! saturated to 16 bits. Roles:
//!
//! - [`Role::Full`]: heard by all, hears all (a conference member, or an
//!   intruder: the PBX overlays the warning tone on the target's output with
//!   [`Mixer::set_overlay`]);
//! - [`Role::Listen`]: **silent intrusion** / monitoring: hears everyone, is
//!   heard by nobody, and nothing tells the others (MV-37);
//! - [`Role::Whisper`]: coaching: heard only by one party, hears everyone.
//!
//! The mixer runs at one sample rate (narrowband 8 kHz or wideband 16 kHz):
//! frames of any other length are refused, so the PBX resamples first.

use thiserror::Error;

/// Identifies a party in a mixer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(pub u32);

/// What a party hears and who hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Speaks to and hears everyone.
    Full,
    /// Hears everyone, heard by nobody (silent intrusion, monitoring).
    Listen,
    /// Hears everyone, heard only by the given party (whisper/coach).
    Whisper(PartyId),
}

/// Mixer errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MixerError {
    /// The configured maximum of parties is reached.
    #[error("mixer full ({0} parties)")]
    Full(usize),
    /// The party id is already present.
    #[error("party {0:?} already present")]
    Duplicate(PartyId),
    /// No such party.
    #[error("unknown party {0:?}")]
    UnknownParty(PartyId),
    /// A frame of the wrong length for the mixer's rate and ptime.
    #[error("frame of {got} samples, mixer expects {expected}")]
    FrameLength {
        /// Samples supplied.
        got: usize,
        /// Samples per frame.
        expected: usize,
    },
}

/// Mixer configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixerConfig {
    /// Parties at most (the seed's conferences are 3 and 6; any N is allowed).
    pub max_parties: usize,
    /// Samples per frame (160 = 20 ms narrowband, 320 = 20 ms wideband).
    pub frame_samples: usize,
}

impl Default for MixerConfig {
    fn default() -> Self {
        Self {
            max_parties: 6,
            frame_samples: 160,
        }
    }
}

#[derive(Debug)]
struct Party {
    id: PartyId,
    role: Role,
    input: Vec<i16>,
    has_input: bool,
    overlay: Vec<i16>,
    has_overlay: bool,
    output: Vec<i16>,
}

/// The mixer.
#[derive(Debug)]
pub struct Mixer {
    config: MixerConfig,
    parties: Vec<Party>,
    sum: Vec<i32>,
    scratch: Vec<i32>,
}

impl Mixer {
    /// An empty mixer.
    pub fn new(config: MixerConfig) -> Self {
        Self {
            config,
            parties: Vec::with_capacity(config.max_parties),
            sum: vec![0; config.frame_samples],
            scratch: vec![0; config.frame_samples],
        }
    }

    /// Number of parties.
    pub fn len(&self) -> usize {
        self.parties.len()
    }

    /// Whether there are no parties.
    pub fn is_empty(&self) -> bool {
        self.parties.is_empty()
    }

    /// Adds a party.
    pub fn add_party(&mut self, id: PartyId, role: Role) -> Result<(), MixerError> {
        if self.parties.iter().any(|p| p.id == id) {
            return Err(MixerError::Duplicate(id));
        }
        if self.parties.len() >= self.config.max_parties {
            return Err(MixerError::Full(self.config.max_parties));
        }
        let n = self.config.frame_samples;
        self.parties.push(Party {
            id,
            role,
            input: vec![0; n],
            has_input: false,
            overlay: vec![0; n],
            has_overlay: false,
            output: vec![0; n],
        });
        Ok(())
    }

    /// Changes a party's role (e.g. intrusion becoming a normal conference).
    pub fn set_role(&mut self, id: PartyId, role: Role) -> Result<(), MixerError> {
        self.party_mut(id)?.role = role;
        Ok(())
    }

    /// Removes a party.
    pub fn remove_party(&mut self, id: PartyId) -> Result<(), MixerError> {
        let i = self
            .parties
            .iter()
            .position(|p| p.id == id)
            .ok_or(MixerError::UnknownParty(id))?;
        self.parties.swap_remove(i);
        Ok(())
    }

    fn party_mut(&mut self, id: PartyId) -> Result<&mut Party, MixerError> {
        self.parties
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or(MixerError::UnknownParty(id))
    }

    fn check_len(&self, frame: &[i16]) -> Result<(), MixerError> {
        if frame.len() == self.config.frame_samples {
            Ok(())
        } else {
            Err(MixerError::FrameLength {
                got: frame.len(),
                expected: self.config.frame_samples,
            })
        }
    }

    /// Supplies a party's decoded frame for this tick (missing input = silence).
    pub fn set_input(&mut self, id: PartyId, frame: &[i16]) -> Result<(), MixerError> {
        self.check_len(frame)?;
        let p = self.party_mut(id)?;
        p.input.copy_from_slice(frame);
        p.has_input = true;
        Ok(())
    }

    /// Adds a signal to one party's output only, for this tick (intrusion warning tone).
    pub fn set_overlay(&mut self, id: PartyId, frame: &[i16]) -> Result<(), MixerError> {
        self.check_len(frame)?;
        let p = self.party_mut(id)?;
        p.overlay.copy_from_slice(frame);
        p.has_overlay = true;
        Ok(())
    }

    /// Mixes this tick; inputs and overlays are consumed. No allocation.
    pub fn mix(&mut self) {
        let Self {
            parties,
            sum,
            scratch,
            ..
        } = self;
        sum.fill(0);
        for p in parties.iter() {
            if p.has_input && p.role == Role::Full {
                for (s, &x) in sum.iter_mut().zip(&p.input) {
                    *s += i32::from(x);
                }
            }
        }
        for li in 0..parties.len() {
            let me = &parties[li];
            let id = me.id;
            scratch.copy_from_slice(sum);
            if me.has_input && me.role == Role::Full {
                for (a, &x) in scratch.iter_mut().zip(&me.input) {
                    *a -= i32::from(x);
                }
            }
            if me.has_overlay {
                for (a, &x) in scratch.iter_mut().zip(&me.overlay) {
                    *a += i32::from(x);
                }
            }
            for w in parties.iter() {
                if w.has_input && w.id != id && w.role == Role::Whisper(id) {
                    for (a, &x) in scratch.iter_mut().zip(&w.input) {
                        *a += i32::from(x);
                    }
                }
            }
            let me = &mut parties[li];
            for (o, &a) in me.output.iter_mut().zip(scratch.iter()) {
                *o = a.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
        for p in parties.iter_mut() {
            p.has_input = false;
            p.has_overlay = false;
        }
    }

    /// What `id` hears after the last [`mix`](Self::mix).
    pub fn output(&self, id: PartyId) -> Option<&[i16]> {
        self.parties
            .iter()
            .find(|p| p.id == id)
            .map(|p| &p.output[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: PartyId = PartyId(1);
    const B: PartyId = PartyId(2);
    const C: PartyId = PartyId(3);
    const D: PartyId = PartyId(4);

    fn frame(v: i16) -> Vec<i16> {
        vec![v; 160]
    }

    fn three() -> Mixer {
        let mut m = Mixer::new(MixerConfig::default());
        for id in [A, B, C] {
            m.add_party(id, Role::Full).expect("room");
        }
        m
    }

    #[test]
    fn mv37_three_party_minus_self() {
        let mut m = three();
        m.set_input(A, &frame(100)).expect("ok");
        m.set_input(B, &frame(20)).expect("ok");
        m.set_input(C, &frame(3)).expect("ok");
        m.mix();
        assert_eq!(m.output(A).expect("A")[0], 23);
        assert_eq!(m.output(B).expect("B")[0], 103);
        assert_eq!(m.output(C).expect("C")[0], 120);
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let mut m = three();
        m.set_input(A, &frame(30000)).expect("ok");
        m.set_input(B, &frame(30000)).expect("ok");
        m.set_input(C, &frame(-30000)).expect("ok");
        m.mix();
        assert_eq!(m.output(C).expect("C")[0], i16::MAX);
        m.set_input(A, &frame(-30000)).expect("ok");
        m.set_input(B, &frame(-30000)).expect("ok");
        m.mix();
        assert_eq!(m.output(C).expect("C")[0], i16::MIN);
    }

    #[test]
    fn mv37_silent_intrusion_is_inaudible_and_hears_both() {
        let mut m = Mixer::new(MixerConfig::default());
        m.add_party(A, Role::Full).expect("ok");
        m.add_party(B, Role::Full).expect("ok");
        m.add_party(D, Role::Listen).expect("ok");
        m.set_input(A, &frame(7)).expect("ok");
        m.set_input(B, &frame(11)).expect("ok");
        m.set_input(D, &frame(5000)).expect("ok"); // the listener talks: must not leak
        m.mix();
        assert_eq!(m.output(A).expect("A"), &frame(11)[..]);
        assert_eq!(m.output(B).expect("B"), &frame(7)[..]);
        assert_eq!(m.output(D).expect("D"), &frame(18)[..]);
    }

    #[test]
    fn mv37_intrusion_heard_with_warning_tone_to_target() {
        let mut m = Mixer::new(MixerConfig::default());
        m.add_party(A, Role::Full).expect("ok");
        m.add_party(B, Role::Full).expect("ok");
        m.add_party(D, Role::Full).expect("ok"); // intruder
        m.set_input(A, &frame(7)).expect("ok");
        m.set_input(B, &frame(11)).expect("ok");
        m.set_input(D, &frame(1000)).expect("ok");
        m.set_overlay(B, &frame(300)).expect("ok"); // warning tone to the target B
        m.mix();
        assert_eq!(m.output(A).expect("A")[0], 1011);
        assert_eq!(m.output(B).expect("B")[0], 1307);
        assert_eq!(m.output(D).expect("D")[0], 18);
    }

    #[test]
    fn whisper_reaches_only_its_target() {
        let mut m = three();
        m.add_party(D, Role::Whisper(A)).expect("ok");
        for (id, v) in [(A, 1), (B, 2), (C, 4), (D, 64)] {
            m.set_input(id, &frame(v)).expect("ok");
        }
        m.mix();
        assert_eq!(m.output(A).expect("A")[0], 2 + 4 + 64);
        assert_eq!(m.output(B).expect("B")[0], 1 + 4);
        assert_eq!(m.output(D).expect("D")[0], 1 + 2 + 4);
    }

    #[test]
    fn limits_and_errors() {
        let mut m = Mixer::new(MixerConfig {
            max_parties: 2,
            frame_samples: 320, // wideband 20 ms
        });
        m.add_party(A, Role::Full).expect("ok");
        assert_eq!(m.add_party(A, Role::Full), Err(MixerError::Duplicate(A)));
        m.add_party(B, Role::Full).expect("ok");
        assert_eq!(m.add_party(C, Role::Full), Err(MixerError::Full(2)));
        assert_eq!(
            m.set_input(A, &frame(1)),
            Err(MixerError::FrameLength {
                got: 160,
                expected: 320
            })
        );
        m.remove_party(A).expect("ok");
        assert_eq!(m.set_input(A, &[0; 320]), Err(MixerError::UnknownParty(A)));
        // A party without input this tick contributes silence.
        m.add_party(C, Role::Full).expect("ok");
        m.set_input(B, &[9; 320]).expect("ok");
        m.mix();
        assert_eq!(m.output(C).expect("C")[0], 9);
        assert_eq!(m.output(B).expect("B")[0], 0);
    }
}
