//! Writes the `request` target's seeds: each example plan as an encoded
//! `OptimizeRequest` (with and without explanations), `EvaluateRequest` (one unit
//! of every driver in every period) and `FrontierRequest` (the budget cap swept),
//! each behind the selector byte that target reads first.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example seeds
//!
//! (run from the repository root; writes `fuzz/seeds/request/`).

use std::fs;
use std::path::Path;

use prost::Message;
use tradeoff::convert::parse_plan_json;
use tradeoff::pb;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = Path::new("fuzz/seeds/request");
    fs::create_dir_all(out)?;
    let mut names: Vec<_> = fs::read_dir("examples")?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    names.sort();
    for path in names {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or("bad file name")?
            .to_string();
        let plan = parse_plan_json(&fs::read_to_string(&path)?)?;
        let periods = plan.periods.len().max(1);
        let write = |suffix: &str, selector: u8, body: Vec<u8>| {
            let mut bytes = vec![selector];
            bytes.extend(body);
            fs::write(out.join(format!("{stem}.{suffix}.bin")), bytes)
        };
        let options = Some(pb::SolveOptions {
            skip_explanations: true,
            ..Default::default()
        });
        let optimize = pb::OptimizeRequest {
            plan: Some(plan.clone()),
            options,
        };
        write("optimize", 0, optimize.encode_to_vec())?;
        write("optimize_explain", 0x80, optimize.encode_to_vec())?;
        let allocation = pb::Allocation {
            drivers: plan
                .drivers
                .iter()
                .map(|driver| pb::DriverAllocation {
                    driver_id: driver.id.clone(),
                    units: vec![1.0; periods],
                })
                .collect(),
        };
        let evaluate = pb::EvaluateRequest {
            plan: Some(plan.clone()),
            allocation: Some(allocation),
            options,
        };
        write("evaluate", 2, evaluate.encode_to_vec())?;
        let frontier = pb::FrontierRequest {
            plan: Some(plan),
            over: pb::SweptBound::BudgetCap as i32,
            from: 0.0,
            to: 200.0,
            options,
        };
        write("frontier", 3, frontier.encode_to_vec())?;
    }
    Ok(())
}
