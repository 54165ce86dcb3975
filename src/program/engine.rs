//! The solver engines a program can be handed to: named here, below `solve`, so
//! that a [`Program`](super::Program) can carry the one that will solve it.

/// A solver engine.
///
/// microlp (pure Rust) is always compiled in; HiGHS (C++) only with the `highs`
/// cargo feature. Both are named here so that a request can ask for either and be
/// told clearly when its engine is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// microlp: dependency-free and quick on small and medium plans.
    #[default]
    Microlp,
    /// HiGHS: much faster on large plans and on integer drivers.
    Highs,
}

impl Backend {
    /// Every engine, compiled in or not.
    pub const ALL: [Backend; 2] = [Backend::Microlp, Backend::Highs];

    /// The engine's name as results and `--version` report it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Microlp => "microlp",
            Backend::Highs => "highs",
        }
    }

    /// Whether this build can run the engine.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Microlp => true,
            Backend::Highs => cfg!(feature = "highs"),
        }
    }

    /// The engines this build can run.
    pub fn available() -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|backend| backend.is_available())
            .collect()
    }
}
