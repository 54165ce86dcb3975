//! Bytes → protobuf request → validation → program → a short solve, the service's
//! path for `Optimize`, `Evaluate` and `Frontier`.
//!
//! The first byte picks the call (and, for `Optimize`, whether explanations run);
//! the rest is the encoded request. Seeds: `fuzz/seeds/request/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeoff_fuzz::{contain_solver_panics, run, Call};

fuzz_target!(init: contain_solver_panics(), |data: &[u8]| {
    let Some((&selector, request)) = data.split_first() else {
        return;
    };
    run(Call::from_byte(selector), request);
});
