//! Alternatives to a plan: how the optimum moves as one bound sweeps a range.

mod frontier;

pub use frontier::{frontier, Frontier, FrontierPoint, Sweep};
