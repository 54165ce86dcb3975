//! `tradeoff`: a sales-strategy optimizer.
//!
//! Growth drivers (hiring, demand generation, partners, customer success,
//! enablement), their costs and their diminishing, ramping returns become a linear
//! program whose optimum is the revenue-maximizing budget split that still meets the
//! profitability the CFO requires. The planning model is docs/MODEL.md.
//!
//! # Layout
//!
//! Data flows one way: bytes → [`pb`] → [`model`] → [`program`] → [`solve`] →
//! [`explain`] → [`analysis`] → result → `pb`/JSON/table. Each module imports only
//! modules below it in that order (docs/ARCHITECTURE.md).
//!
//! - [`pb`]: the wire types of `tradeoff.v1`, generated from `proto/`.
//! - [`convert`]: `pb` ⇄ [`model`], with every validity rule and its field path.
//! - [`model`]: validated plan types.
//! - [`program`]: a validated plan as a linear program with named constraints.
//! - [`solve`]: lexicographic stages, time limits, post-solve verification.
//! - [`explain`]: shadow prices and the diagnosis of infeasible plans.
//! - [`analysis`]: a plan solved and explained, composed into its report; an
//!   allocation scored against the optimum.
//! - [`scenario`]: alternatives to a plan: exact frontiers over one bound.
//! - [`planner`]: the one call both faces make: request in, result out.
//! - [`error`]: the library's [`Error`].
//! - [`pool`]: admission control: a bounded pool of solver threads and a bounded
//!   queue, with panics caught.
//! - [`service`]: the tonic `PlannerService` (thin: request ids, admission, solve
//!   off the runtime within the deadline, map errors).
//! - [`server`]: [`serve`] a listener until a shutdown signal, with health and
//!   reflection.
//! - [`cli`]: the `tradeoff` command line.
#![deny(missing_docs)]
// No unsafe code but the one HiGHS call the `highs` crate does not wrap
// (`solve/highs.rs`, allowed there alone).
#![deny(unsafe_code)]

pub mod analysis;
pub mod cli;
pub mod convert;
pub mod error;
pub mod explain;
pub mod model;
pub mod pb;
pub mod planner;
pub mod pool;
pub mod program;
pub mod scenario;
pub mod server;
pub mod service;
pub mod solve;
pub use error::{Error, ErrorCode};
pub use server::serve;
