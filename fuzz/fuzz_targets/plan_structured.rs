//! Plans built from fuzzer-chosen shapes and numbers (ids that resolve, per-period
//! lists of the right length, edge-case values), so that far more inputs than raw
//! protobuf bytes get past validation into the program builder, the solver and the
//! explanations. Each input is encoded and run exactly as the `request` target
//! runs its bytes, so `cargo run --example show` prints a crash as the request it
//! made.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeoff_fuzz::{contain_solver_panics, StructuredInput};

fuzz_target!(init: contain_solver_panics(), |input: StructuredInput| {
    input.run();
});
