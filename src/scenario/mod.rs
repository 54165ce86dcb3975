//! Alternatives to a plan: how the optimum moves as one bound sweeps a range, and
//! scenario variants of a base plan.

mod frontier;
pub mod overrides;

pub use frontier::{frontier, Frontier, FrontierPoint, Sweep};
