//! The `tradeoff` binary: all of it lives in [`tradeoff::cli`].
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: a scenario of a batch allocates and
/// frees thousands of small vectors (the engine's and ours), and glibc's malloc
/// took about a quarter of a batch's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tradeoff::cli::run()
}
