//! The wire types of `tradeoff.v1`, generated from `proto/` at build time.
//!
//! The generated module stays private; this curated re-export is the API surface.
//! Every message implements `serde` with the proto3 JSON mapping (pbjson), which is
//! the plan file format and the CLI's `--format json` output.

#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/tradeoff.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/tradeoff.v1.serde.rs"));
}

pub use generated::{
    planner_service_client, planner_service_server, Allocation, BoundUnit, ConstraintResult,
    Diagnosis, Driver, DriverAllocation, DriverGap, DriverPeriodResult, DriverResult, DriverUnits,
    EvaluateRequest, EvaluateResponse, Evaluation, Frontier, FrontierPoint, FrontierRequest,
    FrontierResponse, GetServerInfoRequest, GetServerInfoResponse, Group, Link, LinkMeasure,
    LinkTerm, Objective, OptimizeRequest, OptimizeResponse, Outcome, Period, Plan, PlanResult,
    Position, Relaxation, Replan, Requirements, RevenueDistribution, RevenueRange, RuleViolation,
    RunScenariosRequest, Scenario, ScenarioError, ScenarioFieldViolation, ScenarioOverrides,
    ScenarioResult, Segment, Sense, SolveOptions, SolveStatus, Solver, SolverInfo, SweptBound,
    Totals, Uncertainty,
};

/// Encoded `FileDescriptorSet` of the API (with imports), served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/tradeoff_descriptor.bin"));
