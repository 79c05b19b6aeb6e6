//! The PBXKit reference PBX (not yet implemented: it arrives with the PBX issue).

fn main() {
    eprintln!(
        "pbx: the reference PBX is not implemented yet; only the SDK crates are usable today"
    );
    std::process::exit(1);
}
