//! Dense LU factors of a basis's pivot rows.

/// Dense LU factors of the pivot rows' free columns (rows scaled), kept sparse.
pub(super) struct Lu {
    /// Row scale per pivot position.
    pub(super) scale: Vec<f64>,
    /// Strictly lower part of L by column and by row: `(other index, value)`.
    pub(super) l_cols: Vec<Vec<(usize, f64)>>,
    pub(super) l_rows: Vec<Vec<(usize, f64)>>,
    /// Strictly upper part of U by column and by row, and its diagonal.
    pub(super) u_cols: Vec<Vec<(usize, f64)>>,
    pub(super) u_rows: Vec<Vec<(usize, f64)>>,
    pub(super) diagonal: Vec<f64>,
}

impl Lu {
    /// Solves `B z = r` (`r` by pivot position, `z` by free position).
    pub(super) fn ftran(&self, r: &[f64]) -> Vec<f64> {
        let mut w: Vec<f64> = r.iter().zip(&self.scale).map(|(r, s)| r * s).collect();
        for j in 0..w.len() {
            let wj = w[j];
            if wj != 0.0 {
                for &(i, l) in &self.l_cols[j] {
                    w[i] -= l * wj;
                }
            }
        }
        for j in (0..w.len()).rev() {
            if w[j] != 0.0 {
                w[j] /= self.diagonal[j];
                let wj = w[j];
                for &(i, u) in &self.u_cols[j] {
                    w[i] -= u * wj;
                }
            }
        }
        w
    }

    /// Solves `B^T y = g` (`g` by free position, `y` by pivot position).
    pub(super) fn btran(&self, g: &[f64]) -> Vec<f64> {
        let mut v = g.to_vec();
        for j in 0..v.len() {
            if v[j] != 0.0 {
                v[j] /= self.diagonal[j];
                let vj = v[j];
                for &(c, u) in &self.u_rows[j] {
                    v[c] -= u * vj;
                }
            }
        }
        for j in (0..v.len()).rev() {
            let vj = v[j];
            if vj != 0.0 {
                for &(c, l) in &self.l_rows[j] {
                    v[c] -= l * vj;
                }
            }
        }
        v.iter().zip(&self.scale).map(|(v, s)| v * s).collect()
    }
}
