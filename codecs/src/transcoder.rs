//! Frame transcoding between any two codecs (work in progress).

/// Converts frames between two codecs, resampling as needed.
#[derive(Debug)]
pub struct Transcoder {}
