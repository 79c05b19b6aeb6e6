//! `pbx`: the PBXKit reference PBX. See `pbx --help` and the crate docs.

fn main() -> std::process::ExitCode {
    pbx::cli::main()
}
