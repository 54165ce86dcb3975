//! Alternatives to a plan: how the optimum moves as one bound sweeps a range.
//! (Scenario variants edit the wire plan before it is validated:
//! [`crate::convert::overrides`].)

mod frontier;

pub use frontier::{frontier, Frontier, FrontierPoint, Sweep};
