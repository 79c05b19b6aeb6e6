//! SIP passwords: the generator for demo extensions and the UCM-OPS-4 strength policy.

use rand::Rng as _;

/// Characters of generated passwords: no look-alikes (0/O, 1/l/I), no quoting trouble.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.";

/// Length of generated passwords.
pub const GENERATED_LEN: usize = 16;

/// Checks the UCM-OPS-4 policy: 8 to 32 characters, at least two of {lower, upper, digit,
/// special}, and no run of more than 3 identical characters.
pub fn policy(p: &str) -> Result<(), &'static str> {
    let len = p.chars().count();
    if !(8..=32).contains(&len) {
        return Err("length must be 8 to 32 characters");
    }
    let classes = [
        p.chars().any(|c| c.is_lowercase()),
        p.chars().any(|c| c.is_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 2 {
        return Err("use at least two of lower case, upper case, digits, special characters");
    }
    let chars: Vec<char> = p.chars().collect();
    if chars.windows(4).any(|w| w.iter().all(|c| *c == w[0])) {
        return Err("more than 3 identical characters in a row");
    }
    Ok(())
}

/// A random password that satisfies [`policy`].
pub fn generate() -> String {
    let mut rng = rand::rng();
    loop {
        let p: String = (0..GENERATED_LEN)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        // With 59 symbols and 16 draws a failure is rare; retry until the policy holds.
        if policy(&p).is_ok() {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ucm_ops_4_policy_boundaries() {
        // UCM-OPS-4: length boundaries 7/8/32/33.
        assert!(policy("aB3defg").is_err());
        assert!(policy("aB3defgh").is_ok());
        assert!(policy(&format!("aB3{}", "xy".repeat(14) + "z")).is_ok()); // 32
        assert!(policy(&format!("aB3{}", "xy".repeat(15))).is_err()); // 33
        // Two classes at least.
        assert!(policy("abcdefgh").is_err());
        assert!(policy("abcdefg1").is_ok());
        // No more than 3 consecutive identical characters.
        assert!(policy("aaa1bcde").is_ok());
        assert!(policy("aaaa1bcd").is_err());
        // The example passwords pass.
        assert!(policy("s3cret-201").is_ok());
    }

    #[test]
    fn generated_passwords_pass_and_differ() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), GENERATED_LEN);
        assert!(policy(&a).is_ok());
        assert_ne!(a, b);
    }
}
