//! Player and recorder: WAV clips in and out (via `hound`), playlists of
//! prompts and announcements, looping music on hold, locale-aware prompt
//! resolution (UCM-RTP-3) and recordings with a duration hook for storage
//! accounting (UCM-RTP-2, see [`crate::budget::StorageLedger`]).
//!
//! Sans-IO: WAV files arrive and leave as bytes; the PBX does the file I/O.
//! Clips must be at the player's sample rate: the PBX resamples with
//! `codecs` when they are not.

use std::collections::{HashMap, VecDeque};
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Player/recorder errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlayerError {
    /// Not a readable WAV file.
    #[error("not a valid WAV file")]
    Wav,
    /// A WAV encoding other than 16-bit integer PCM.
    #[error("unsupported WAV format ({bits} bits, {channels} channels)")]
    UnsupportedFormat {
        /// Bits per sample.
        bits: u16,
        /// Channels.
        channels: u16,
    },
    /// A clip at a different sample rate than the player.
    #[error("clip at {clip} Hz, player at {player} Hz")]
    SampleRate {
        /// The clip's rate.
        clip: u32,
        /// The player's rate.
        player: u32,
    },
}

/// Decoded mono 16-bit audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clip {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Mono samples.
    pub samples: Vec<i16>,
}

impl Clip {
    /// Decodes a 16-bit PCM WAV (stereo is downmixed).
    pub fn from_wav(bytes: &[u8]) -> Result<Self, PlayerError> {
        let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|_| PlayerError::Wav)?;
        let spec = reader.spec();
        if spec.sample_format != hound::SampleFormat::Int
            || spec.bits_per_sample != 16
            || spec.channels == 0
            || spec.channels > 2
        {
            return Err(PlayerError::UnsupportedFormat {
                bits: spec.bits_per_sample,
                channels: spec.channels,
            });
        }
        let raw: Vec<i16> = reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(|_| PlayerError::Wav)?;
        let samples = if spec.channels == 2 {
            raw.chunks_exact(2)
                .map(|p| ((i32::from(p[0]) + i32::from(p[1])) / 2) as i16)
                .collect()
        } else {
            raw
        };
        Ok(Self {
            sample_rate: spec.sample_rate,
            samples,
        })
    }

    /// Encodes as a mono 16-bit PCM WAV.
    pub fn to_wav(&self) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::with_capacity(44 + 2 * self.samples.len()));
        // Writing into memory cannot fail for I/O reasons; a failure would be a
        // hound limit (over 4 GiB), which a clip in memory cannot reach.
        if let Ok(mut w) = hound::WavWriter::new(&mut out, spec) {
            for &s in &self.samples {
                if w.write_sample(s).is_err() {
                    break;
                }
            }
            let _ = w.finalize();
        }
        out.into_inner()
    }

    /// Playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }
}

/// Player events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The clip at this playlist position finished.
    ClipFinished(usize),
    /// The playlist ran out (never for a looping player).
    Finished,
}

/// Plays a playlist frame by frame; loops for music on hold.
#[derive(Debug)]
pub struct Player {
    sample_rate: u32,
    looping: bool,
    playlist: Vec<Arc<Clip>>,
    index: usize,
    pos: usize,
    finished: bool,
    events: VecDeque<PlayerEvent>,
}

impl Player {
    /// A player at `sample_rate`; `looping` repeats the playlist (MoH).
    pub fn new(sample_rate: u32, looping: bool) -> Self {
        Self {
            sample_rate,
            looping,
            playlist: Vec::new(),
            index: 0,
            pos: 0,
            finished: false,
            events: VecDeque::new(),
        }
    }

    /// Appends a clip (prompt, announcement, music).
    pub fn enqueue(&mut self, clip: Arc<Clip>) -> Result<(), PlayerError> {
        if clip.sample_rate != self.sample_rate {
            return Err(PlayerError::SampleRate {
                clip: clip.sample_rate,
                player: self.sample_rate,
            });
        }
        self.playlist.push(clip);
        self.finished = false;
        Ok(())
    }

    /// Stops and clears the playlist (barge-in on DTMF).
    pub fn stop(&mut self) {
        self.playlist.clear();
        self.index = 0;
        self.pos = 0;
        self.finished = true;
    }

    /// Whether everything has been played.
    pub fn is_finished(&self) -> bool {
        self.finished || self.playlist.is_empty()
    }

    /// Fills `out` with the next samples (silence after the end).
    pub fn fill(&mut self, out: &mut [i16]) {
        let mut at = 0;
        while at < out.len() {
            if self.finished || self.playlist.is_empty() {
                out[at..].fill(0);
                return;
            }
            let clip = &self.playlist[self.index];
            let n = (clip.samples.len() - self.pos).min(out.len() - at);
            out[at..at + n].copy_from_slice(&clip.samples[self.pos..self.pos + n]);
            at += n;
            self.pos += n;
            if self.pos >= clip.samples.len() {
                self.events.push_back(PlayerEvent::ClipFinished(self.index));
                self.pos = 0;
                self.index += 1;
                if self.index == self.playlist.len() {
                    self.index = 0;
                    if !self.looping {
                        self.finished = true;
                        self.events.push_back(PlayerEvent::Finished);
                    } else if self.playlist.iter().all(|c| c.samples.is_empty()) {
                        out[at..].fill(0);
                        return;
                    }
                }
            }
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<PlayerEvent> {
        self.events.pop_front()
    }
}

/// Prompts by locale, with fallback (UCM-RTP-3).
#[derive(Debug, Default)]
pub struct PromptCatalog {
    installed: Vec<String>,
    tts: Vec<String>,
    prompts: HashMap<(String, String), Arc<Clip>>,
}

impl PromptCatalog {
    /// An empty catalogue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a prompt `name` in `locale`; the locale becomes installed.
    pub fn insert(&mut self, locale: &str, name: &str, clip: Arc<Clip>) {
        if !self.installed.iter().any(|l| l == locale) {
            self.installed.push(locale.to_owned());
        }
        self.prompts
            .insert((locale.to_owned(), name.to_owned()), clip);
    }

    /// Marks a TTS language as installed.
    pub fn install_tts(&mut self, locale: &str) {
        if !self.tts.iter().any(|l| l == locale) {
            self.tts.push(locale.to_owned());
        }
    }

    /// Whether TTS can render `locale` (only installed TTS languages can).
    pub fn tts_available(&self, locale: &str) -> bool {
        self.tts.iter().any(|l| l.eq_ignore_ascii_case(locale))
    }

    /// Resolves `name` for `locale`: the exact locale, then its language
    /// (`en-GB` → `en`, or another `en-*`), then the installed locales in
    /// installation order. Returns the locale used.
    pub fn resolve(&self, name: &str, locale: &str) -> Option<(&str, Arc<Clip>)> {
        let lang = locale.split(['-', '_']).next().unwrap_or(locale);
        let same_lang = self.installed.iter().filter(|l| {
            let ll = l.split(['-', '_']).next().unwrap_or(l);
            ll.eq_ignore_ascii_case(lang)
        });
        let exact = self
            .installed
            .iter()
            .filter(|l| l.eq_ignore_ascii_case(locale));
        exact
            .chain(same_lang)
            .chain(self.installed.iter())
            .find_map(|l| {
                self.prompts
                    .get(&(l.clone(), name.to_owned()))
                    .map(|c| (l.as_str(), Arc::clone(c)))
            })
    }
}

/// Recorder events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecorderEvent {
    /// The maximum duration was reached; further audio is ignored.
    LimitReached,
}

/// Records mono PCM up to a maximum duration (voicemail, call recording).
#[derive(Debug)]
pub struct Recorder {
    clip: Clip,
    max_samples: usize,
    limit_hit: bool,
    events: VecDeque<RecorderEvent>,
}

impl Recorder {
    /// A recorder at `sample_rate` limited to `max` (e.g. the storage ledger's remaining time).
    pub fn new(sample_rate: u32, max: Duration) -> Self {
        Self {
            clip: Clip {
                sample_rate,
                samples: Vec::new(),
            },
            max_samples: (max.as_secs_f64() * f64::from(sample_rate)) as usize,
            limit_hit: false,
            events: VecDeque::new(),
        }
    }

    /// Appends decoded audio.
    pub fn push(&mut self, pcm: &[i16]) {
        let room = self.max_samples.saturating_sub(self.clip.samples.len());
        let n = pcm.len().min(room);
        self.clip.samples.extend_from_slice(&pcm[..n]);
        if n < pcm.len() && !self.limit_hit {
            self.limit_hit = true;
            self.events.push_back(RecorderEvent::LimitReached);
        }
    }

    /// Recorded duration so far (the storage-accounting hook, UCM-RTP-2).
    pub fn duration(&self) -> Duration {
        self.clip.duration()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RecorderEvent> {
        self.events.pop_front()
    }

    /// Ends the recording, returning the clip.
    pub fn finish(self) -> Clip {
        self.clip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(rate: u32, v: &[i16]) -> Arc<Clip> {
        Arc::new(Clip {
            sample_rate: rate,
            samples: v.to_vec(),
        })
    }

    #[test]
    fn playlist_plays_in_order_then_silence() {
        let mut p = Player::new(8000, false);
        p.enqueue(clip(8000, &[1, 2, 3])).expect("rate");
        p.enqueue(clip(8000, &[4, 5])).expect("rate");
        let mut out = [9i16; 4];
        p.fill(&mut out);
        assert_eq!(out, [1, 2, 3, 4]);
        p.fill(&mut out);
        assert_eq!(out, [5, 0, 0, 0]);
        let evs: Vec<_> = std::iter::from_fn(|| p.poll_event()).collect();
        assert_eq!(
            evs,
            [
                PlayerEvent::ClipFinished(0),
                PlayerEvent::ClipFinished(1),
                PlayerEvent::Finished
            ]
        );
        assert_eq!(
            p.enqueue(clip(16000, &[1])),
            Err(PlayerError::SampleRate {
                clip: 16000,
                player: 8000
            })
        );
    }

    #[test]
    fn music_on_hold_loops() {
        let mut p = Player::new(8000, true);
        p.enqueue(clip(8000, &[1, 2, 3])).expect("rate");
        let mut out = [0i16; 7];
        p.fill(&mut out);
        assert_eq!(out, [1, 2, 3, 1, 2, 3, 1]);
        assert!(!p.is_finished());
        let mut empty = Player::new(8000, true);
        empty.enqueue(clip(8000, &[])).expect("rate");
        empty.fill(&mut out); // must terminate
        assert_eq!(out, [0; 7]);
    }

    #[test]
    fn ucm_rtp_3_prompt_locale_fallback() {
        let mut c = PromptCatalog::new();
        c.insert("de-DE", "welcome", clip(8000, &[1]));
        c.insert("en-US", "welcome", clip(8000, &[2]));
        c.insert("en-US", "goodbye", clip(8000, &[3]));
        assert_eq!(c.resolve("welcome", "de-DE").map(|r| r.0), Some("de-DE"));
        assert_eq!(c.resolve("welcome", "en-GB").map(|r| r.0), Some("en-US"));
        assert_eq!(c.resolve("goodbye", "de-DE").map(|r| r.0), Some("en-US"));
        assert_eq!(c.resolve("welcome", "fr-FR").map(|r| r.0), Some("de-DE"));
        assert!(c.resolve("missing", "de-DE").is_none());
        c.install_tts("en-US");
        assert!(c.tts_available("en-us"));
        assert!(!c.tts_available("de-DE"));
    }

    #[test]
    fn recorder_limit_and_duration_hook() {
        let mut r = Recorder::new(8000, Duration::from_millis(50));
        r.push(&[1; 320]);
        assert_eq!(r.duration(), Duration::from_millis(40));
        r.push(&[2; 160]);
        assert_eq!(r.duration(), Duration::from_millis(50));
        assert_eq!(r.poll_event(), Some(RecorderEvent::LimitReached));
        let c = r.finish();
        let back = Clip::from_wav(&c.to_wav()).expect("valid");
        assert_eq!(back, c);
    }

    #[test]
    fn malformed_wav_is_an_error() {
        assert_eq!(Clip::from_wav(b"RIFF\0\0\0\0WAVE"), Err(PlayerError::Wav));
        assert_eq!(Clip::from_wav(&[]), Err(PlayerError::Wav));
    }
}
