//! `transcode IN OUT`: converts audio between formats chosen by file extension.
fn main() {
    eprintln!("transcode: not implemented yet");
    std::process::exit(2);
}
