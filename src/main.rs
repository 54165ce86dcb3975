//! The `tradeoff` binary: all of it lives in [`tradeoff::cli`].
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tradeoff::cli::run()
}
