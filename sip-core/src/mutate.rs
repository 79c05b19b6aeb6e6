//! Mutated test inputs for the differential tests of the fast paths.

/// Each seed as given, then `rounds - 1` variants of it with one to three bytes of
/// `alphabet` inserted, replaced or removed (a fixed xorshift sequence, so runs repeat).
pub(crate) fn mutations(seeds: &[&str], alphabet: &[u8], rounds: usize) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(seeds.len() * rounds);
    for seed in seeds {
        for round in 0..rounds {
            let mut s = seed.as_bytes().to_vec();
            if round > 0 {
                for _ in 0..=(next() % 3) {
                    let at = (next() as usize) % (s.len() + 1);
                    let c = alphabet[(next() as usize) % alphabet.len()];
                    match next() % 3 {
                        0 => s.insert(at, c),
                        1 if at < s.len() => s[at] = c,
                        _ if at < s.len() => {
                            s.remove(at);
                        }
                        _ => s.push(c),
                    }
                }
            }
            out.push(String::from_utf8_lossy(&s).into_owned());
        }
    }
    out
}

/// Checks a fast path against its full parser on the [`mutations`] of `seeds` (400 per seed).
/// `both` runs the two on one input: `None` when the fast path declines, else the fast
/// result and the full parser's, as `Debug` text. Whatever the fast path accepts, the full
/// parser must accept with the same result; and the fast path must take more than a tenth
/// of the inputs, so the check is not empty.
pub(crate) fn check_fast_path(
    seeds: &[&str],
    alphabet: &[u8],
    both: impl Fn(&str) -> Option<(String, String)>,
) {
    let inputs = mutations(seeds, alphabet, 400);
    let mut hits = 0usize;
    for input in &inputs {
        if let Some((fast, full)) = both(input) {
            hits += 1;
            assert_eq!(fast, full, "{input:?}");
        }
    }
    assert!(hits > inputs.len() / 10, "{hits} of {}", inputs.len());
}

/// The `both` result of [`check_fast_path`] for a fast result and the full parser (run only
/// when the fast path accepted), each as `Debug` text of a `Result`.
pub(crate) fn debug_pair<T: std::fmt::Debug, E: std::fmt::Debug>(
    fast: Option<T>,
    full: impl FnOnce() -> Result<T, E>,
) -> Option<(String, String)> {
    let f = fast?;
    Some((format!("{:?}", Ok::<T, E>(f)), format!("{:?}", full())))
}
