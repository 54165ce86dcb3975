//! The `tradeoff` binary: all of it lives in [`tradeoff::cli`].

fn main() -> std::process::ExitCode {
    tradeoff::cli::run()
}
