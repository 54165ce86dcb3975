//! Sparse affine expressions over program variables.

use super::VarId;

/// `constant + sum(coefficient * var)`, kept sparse. Builders may push repeated
/// variables; [`LinExpr::normalized`] merges them and drops zeros.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinExpr {
    /// `(variable, coefficient)` pairs.
    pub terms: Vec<(VarId, f64)>,
    /// Constant part.
    pub constant: f64,
}

impl LinExpr {
    /// Adds `coefficient * var`.
    pub fn add(&mut self, var: VarId, coefficient: f64) {
        self.terms.push((var, coefficient));
    }

    /// The normalized sum of `coefficient * var` terms.
    pub fn sum(terms: impl IntoIterator<Item = (VarId, f64)>) -> LinExpr {
        LinExpr {
            terms: terms.into_iter().collect(),
            constant: 0.0,
        }
        .normalized()
    }

    /// The normalized sum of expressions.
    pub fn sum_exprs<'a>(exprs: impl IntoIterator<Item = &'a LinExpr>) -> LinExpr {
        Self::sum_exprs_scaled(exprs.into_iter().map(|expr| (expr, 1.0)))
    }

    /// The normalized sum of `factor * expr`.
    pub fn sum_exprs_scaled<'a>(exprs: impl IntoIterator<Item = (&'a LinExpr, f64)>) -> LinExpr {
        let mut total = LinExpr::default();
        for (expr, factor) in exprs {
            total.extend_scaled(expr, factor);
        }
        total.normalized()
    }

    /// `self + factor * other`, normalized.
    pub fn plus_scaled(mut self, other: &LinExpr, factor: f64) -> LinExpr {
        self.extend_scaled(other, factor);
        self.normalized()
    }

    fn extend_scaled(&mut self, other: &LinExpr, factor: f64) {
        self.terms.extend(
            other
                .terms
                .iter()
                .map(|&(var, coefficient)| (var, coefficient * factor)),
        );
        self.constant += other.constant * factor;
    }

    /// Sorted by variable, repeated variables merged, zero coefficients dropped.
    ///
    /// The sort is the standard library's stable one: sums of normalized
    /// expressions (the levels, group and margin rows) are runs already in
    /// order, which it merges instead of sorting afresh (a fifth of the time
    /// of building a scenario's program went to sorting), and repeated
    /// variables are summed in the order they were added, the same on every
    /// run. Merging is in place: no second vector.
    pub fn normalized(mut self) -> LinExpr {
        self.terms.sort_by_key(|&(var, _)| var);
        let mut kept = 0;
        for index in 0..self.terms.len() {
            let (var, coefficient) = self.terms[index];
            if kept > 0 && self.terms[kept - 1].0 == var {
                self.terms[kept - 1].1 += coefficient;
            } else {
                self.terms[kept] = (var, coefficient);
                kept += 1;
            }
        }
        self.terms.truncate(kept);
        self.terms.retain(|&(_, coefficient)| coefficient != 0.0);
        self
    }

    /// The same terms with constant 0.
    pub fn without_constant(mut self) -> LinExpr {
        self.constant = 0.0;
        self
    }

    /// Value at `values` (indexed by variable; a missing variable counts as 0).
    pub fn eval(&self, values: &[f64]) -> f64 {
        self.constant
            + self
                .terms
                .iter()
                .map(|&(var, coefficient)| coefficient * values.get(var).copied().unwrap_or(0.0))
                .sum::<f64>()
    }

    /// `sum |coefficient * value|` at `values`: the scale against which rounding in
    /// this expression is judged.
    pub fn magnitude(&self, values: &[f64]) -> f64 {
        self.terms
            .iter()
            .map(|&(var, coefficient)| {
                (coefficient * values.get(var).copied().unwrap_or(0.0)).abs()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_merges_repeats_and_drops_zeros() {
        let expr = LinExpr {
            terms: vec![(2, 1.0), (0, 3.0), (2, -1.0), (1, 0.5), (0, 1.0)],
            constant: 4.0,
        }
        .normalized();
        assert_eq!(expr.terms, vec![(0, 4.0), (1, 0.5)]);
        assert_eq!(expr.constant, 4.0);
    }

    #[test]
    fn evaluates_with_constant() {
        // 4 + 2*x0 - x2 at x = (1, 9, 3): 4 + 2 - 3 = 3
        let expr = LinExpr {
            terms: vec![(0, 2.0), (2, -1.0)],
            constant: 4.0,
        };
        assert_eq!(expr.eval(&[1.0, 9.0, 3.0]), 3.0);
        assert_eq!(expr.magnitude(&[1.0, 9.0, 3.0]), 5.0);
    }

    #[test]
    fn scaled_sums_scale_constants_too() {
        let a = LinExpr {
            terms: vec![(0, 1.0)],
            constant: 1.0,
        };
        let b = LinExpr {
            terms: vec![(0, 2.0), (1, 1.0)],
            constant: 2.0,
        };
        // a - 0.5 b = (1 - 1) x0 - 0.5 x1 + (1 - 1) = -0.5 x1
        let c = a.plus_scaled(&b, -0.5);
        assert_eq!(c.terms, vec![(1, -0.5)]);
        assert_eq!(c.constant, 0.0);
    }
}
