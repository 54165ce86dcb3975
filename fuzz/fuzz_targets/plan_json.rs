//! Bytes → UTF-8 → plan-file parser → validation, and the program of a plan that
//! passes (no solve: this target is about the parser and the validator).
//! Seeds: `examples/*.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeoff::convert::{parse_plan_json, plan_from_pb, Limits};
use tradeoff::program::Program;
use tradeoff_fuzz::LIMITS;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = parse_plan_json(text) else {
        return;
    };
    // Validation with the CLI's default limits, as `tradeoff solve` runs it ...
    if plan_from_pb(&plan, &Limits::default()).is_err() {
        return;
    }
    // ... and the program of a plan small enough to build quickly.
    if let Ok(model) = plan_from_pb(&plan, &LIMITS) {
        let _ = Program::build(&model);
    }
});
