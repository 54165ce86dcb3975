//! Optimal bases of earlier solves, tried on the next program of the same shape
//! before an engine is asked: a scenario batch solves many variants of one plan,
//! and most keep an optimal basis of the base plan or of an earlier scenario.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::basis::{optimum_from, structure, vertex_at, BasisShape, Vertex};
use crate::program::{LinExpr, Program};

/// How many bases are kept (the most recently useful first): a batch whose
/// scenarios add rows (a Q1 cash cap in some) has programs of several
/// structures, and each is tried only on its own.
const KEPT: usize = 8;

/// How many of them (of the program's structure) a solve tries before it asks
/// the engine: the most recent with pivots, the next as it is. Each try costs a
/// factorisation, and a basis further down the list rarely fits when the first
/// ones did not.
const TRIED: usize = 2;

/// Tries always made before the hit rate decides whether to go on trying.
const FIRST_TRIES: usize = 16;
/// Tries go on while at least one in this many finds an optimal basis ...
const WORTH_IT: usize = 8;
/// ... and otherwise one solve in this many tries again (the batch may have
/// moved on to scenarios that keep their bases).
const PROBE_EVERY: usize = 32;

/// A small cache of optimal bases (their shapes), shared by the threads of a
/// batch. Each entry is only a guess: a basis is used for a program when it
/// yields a vertex that meets every row and bound and is certified optimal.
///
/// A batch whose scenarios rarely keep a basis (wide sweeps of a binding budget)
/// stops paying a factorisation per scenario for nothing: once the hit rate is
/// known to be low, only an occasional solve tries.
#[derive(Debug, Default)]
pub struct Bases {
    shapes: Mutex<VecDeque<BasisShape>>,
    /// Solves that tried the kept bases, and those that found one optimal.
    tries: AtomicUsize,
    hits: AtomicUsize,
    /// Solves that did not try.
    skipped: AtomicUsize,
}

impl Bases {
    /// An empty cache.
    pub fn new() -> Bases {
        Bases::default()
    }

    /// The optimum of the first level (`max expr`, `min` unless `maximise`) of
    /// `program` from a kept basis: one of the first [`TRIED`] when it is still
    /// optimal, otherwise after simplex pivots from the most recent one. With
    /// the shape of the optimum's basis and the pivots taken.
    pub(crate) fn settle(
        &self,
        program: &Program,
        maximise: bool,
        expr: &LinExpr,
    ) -> Option<(Vertex, BasisShape, usize)> {
        let (tries, hits) = (
            self.tries.load(Ordering::Relaxed),
            self.hits.load(Ordering::Relaxed),
        );
        if tries >= FIRST_TRIES
            && hits * WORTH_IT < tries
            && !self
                .skipped
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(PROBE_EVERY)
        {
            return None;
        }
        let structure = structure(program);
        let candidates: Vec<BasisShape> = self
            .shapes
            .lock()
            .ok()?
            .iter()
            .filter(|shape| shape.fits(structure))
            .take(TRIED)
            .cloned()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        self.tries.fetch_add(1, Ordering::Relaxed);
        // The most recent basis, as it is or after pivots; the one before it
        // only as it is (most scenarios of a batch now need pivots from the
        // first, and each try costs a factorisation).
        let settled = candidates.first().and_then(|shape| {
            optimum_from(program, maximise, expr, shape).or_else(|| {
                let earlier = candidates.get(1)?;
                let vertex = vertex_at(program, maximise, expr, earlier)?;
                Some((vertex, earlier.clone(), 0))
            })
        });
        if settled.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        settled
    }

    /// Keeps `shape` as the most recently useful basis.
    pub(crate) fn record(&self, shape: BasisShape) {
        if let Ok(mut shapes) = self.shapes.lock() {
            shapes.retain(|kept| *kept != shape);
            shapes.push_front(shape);
            shapes.truncate(KEPT);
        }
    }

    /// How many bases are kept.
    pub fn len(&self) -> usize {
        self.shapes.lock().map_or(0, |shapes| shapes.len())
    }

    /// Whether none is kept yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
