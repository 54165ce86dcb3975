//! Returns as ranges (docs/MODEL.md §7): the outcomes of a plan's rates, drawn
//! reproducibly from triangular ranges, and the distribution of revenue a plan
//! gets over them.
//!
//! The draws use their own generator (SplitMix64) and `libm`'s logarithm, cosine
//! and complementary error function, not the platform's: the same plan and seed
//! give the same outcomes, bit for bit, on every platform and thread count.

/// The outcomes of a plan with uncertainty, resolved: explicit samples, or draws
/// from ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// The outcomes, weights normalised to sum 1; never empty.
    pub outcomes: Vec<Outcome>,
    /// Per driver (plan order), its factor's mean over the outcomes: the program's
    /// rates are the plan's times these (the expected rates).
    pub mean_factors: Vec<f64>,
    /// With `requirements.revenue_target`: the confidence the target is met with.
    pub confidence: Option<f64>,
}

/// One outcome: its weight and every driver's factor on its rates.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Share of the whole weight (the weights sum to 1).
    pub weight: f64,
    /// Per driver (plan order), the factor on every `revenue_per_unit`.
    pub factors: Vec<f64>,
}

impl Outcome {
    /// Revenue in this outcome (docs/MODEL.md §7): `baseline` plus each driver's
    /// revenue at the plan's own rates (`driver_revenue`, plan order) times its
    /// factor.
    pub fn revenue(&self, driver_revenue: &[f64], baseline: f64) -> f64 {
        baseline
            + self
                .factors
                .iter()
                .zip(driver_revenue)
                .map(|(factor, revenue)| factor * revenue)
                .sum::<f64>()
    }
}

/// One driver's triangular range on [low, high] with mode 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Index into the plan's drivers.
    pub driver: usize,
    /// Lowest factor, in [0, 1].
    pub low: f64,
    /// Highest factor, at least 1.
    pub high: f64,
}

impl Range {
    /// The mean of the triangular distribution: `(low + 1 + high) / 3`.
    pub fn mean(self) -> f64 {
        (self.low + 1.0 + self.high) / 3.0
    }

    /// The factor at cumulative probability `u` in (0, 1): the inverse of the
    /// triangular distribution's CDF.
    pub fn quantile(self, u: f64) -> f64 {
        let (low, high) = (self.low, self.high);
        let width = high - low;
        if width <= 0.0 {
            return 1.0;
        }
        let below_mode = (1.0 - low) / width;
        if u < below_mode {
            low + (u * width * (1.0 - low)).sqrt()
        } else {
            high - ((1.0 - u) * width * (high - 1.0)).sqrt()
        }
    }
}

/// `count` equally weighted outcomes drawn from `ranges` over `drivers` drivers
/// (drivers without a range keep factor 1): per outcome a common standard normal
/// `z0`, then per range in order `z = sqrt(rho) z0 + sqrt(1 - rho) e`, its
/// probability `u = Phi(z)` and the factor at `u` (docs/MODEL.md §7).
pub fn draw(ranges: &[Range], drivers: usize, count: usize, seed: u64, rho: f64) -> Vec<Outcome> {
    let mut rng = SplitMix64(seed);
    let weight = 1.0 / count.max(1) as f64;
    let (common, own) = (rho.sqrt(), (1.0 - rho).sqrt());
    (0..count)
        .map(|_| {
            let mut factors = vec![1.0; drivers];
            let z0 = rng.normal();
            for range in ranges {
                let z = common * z0 + own * rng.normal();
                if let Some(factor) = factors.get_mut(range.driver) {
                    *factor = range.quantile(standard_normal_cdf(z));
                }
            }
            Outcome { weight, factors }
        })
        .collect()
}

/// The standard normal CDF, `0.5 erfc(-z / sqrt 2)`, clamped inside (0, 1) so that
/// a quantile is always taken strictly inside its range.
fn standard_normal_cdf(z: f64) -> f64 {
    (0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)).clamp(1e-300, 1.0 - 1e-16)
}

/// SplitMix64: a small generator whose sequence is fixed by its seed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1), never 0: the centre of one of 2^53 equal cells.
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.unit(), self.unit());
        (-2.0 * libm::log(a)).sqrt() * libm::cos(std::f64::consts::TAU * b)
    }
}

/// The revenue of a plan over the outcomes (docs/MODEL.md §7).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Distribution {
    /// Outcomes it is taken over.
    pub outcomes: usize,
    /// Weighted mean revenue.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Share of weight reaching the revenue target, if the plan has one.
    pub probability_target: Option<f64>,
    /// Share of weight meeting the margin floor, if the plan has one.
    pub probability_min_margin: Option<f64>,
    /// Share of weight meeting the contribution floor, if the plan has one.
    pub probability_min_contribution: Option<f64>,
    /// With a confidence `q`: the weighted mean revenue of the worst `1 - q` share.
    pub tail_mean: Option<f64>,
}

/// One outcome's totals for the reported plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeTotals {
    /// The outcome's weight.
    pub weight: f64,
    /// Revenue.
    pub revenue: f64,
    /// Contribution.
    pub contribution: f64,
}

/// The `p`-th percentile of `sorted` (ascending by revenue): the smallest
/// revenue whose outcomes at or below it weigh at least `p` (docs/MODEL.md §7).
pub fn percentile(sorted: &[OutcomeTotals], p: f64) -> f64 {
    let mut weight = 0.0;
    for outcome in sorted {
        weight += outcome.weight;
        if weight >= p - 1e-12 {
            return outcome.revenue;
        }
    }
    sorted.last().map_or(0.0, |outcome| outcome.revenue)
}

/// The weighted mean of the worst `share` of weight (ascending `sorted`), the
/// last outcome counted with the part of its weight that fits.
fn tail_mean(sorted: &[OutcomeTotals], share: f64) -> f64 {
    let mut left = share;
    let mut sum = 0.0;
    for outcome in sorted {
        let take = outcome.weight.min(left);
        sum += take * outcome.revenue;
        left -= take;
        if left <= 0.0 {
            break;
        }
    }
    if share > 0.0 {
        sum / share
    } else {
        0.0
    }
}

/// The distribution of `totals` (one per outcome) against the plan's floors.
pub fn distribution(
    mut totals: Vec<OutcomeTotals>,
    revenue_target: Option<f64>,
    min_margin: Option<f64>,
    min_contribution: Option<f64>,
    confidence: Option<f64>,
) -> Distribution {
    let tolerance = |x: f64| 1e-9 * x.abs().max(1.0);
    let share = |meets: &dyn Fn(&OutcomeTotals) -> bool| {
        totals
            .iter()
            .filter(|outcome| meets(outcome))
            .map(|outcome| outcome.weight)
            .sum::<f64>()
            .min(1.0)
    };
    let probability_target = revenue_target
        .map(|target| share(&|o: &OutcomeTotals| o.revenue >= target - tolerance(target)));
    let probability_min_margin = min_margin.map(|floor| {
        share(&|o: &OutcomeTotals| o.contribution - floor * o.revenue >= -tolerance(o.revenue))
    });
    let probability_min_contribution = min_contribution
        .map(|floor| share(&|o: &OutcomeTotals| o.contribution >= floor - tolerance(floor)));
    let mean = totals.iter().map(|o| o.weight * o.revenue).sum();
    totals.sort_by(|a, b| a.revenue.total_cmp(&b.revenue));
    Distribution {
        outcomes: totals.len(),
        mean,
        p10: percentile(&totals, 0.1),
        p50: percentile(&totals, 0.5),
        p90: percentile(&totals, 0.9),
        probability_target,
        probability_min_margin,
        probability_min_contribution,
        tail_mean: confidence.map(|q| tail_mean(&totals, 1.0 - q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangular_quantiles_by_hand() {
        // [0.5, 2] with mode 1: F(1) = (1 - 0.5) / 1.5 = 1/3; below it
        // x = 0.5 + sqrt(u * 1.5 * 0.5), above x = 2 - sqrt((1 - u) * 1.5 * 1).
        let range = Range {
            driver: 0,
            low: 0.5,
            high: 2.0,
        };
        assert!((range.quantile(1.0 / 3.0) - 1.0).abs() < 1e-12);
        assert!((range.quantile(0.1) - (0.5 + 0.075f64.sqrt())).abs() < 1e-12);
        assert!((range.quantile(0.9) - (2.0 - 0.15f64.sqrt())).abs() < 1e-12);
        assert!((range.mean() - 3.5 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_same_seed_draws_the_same_outcomes() {
        let ranges = [
            Range {
                driver: 0,
                low: 0.5,
                high: 1.5,
            },
            Range {
                driver: 2,
                low: 0.9,
                high: 1.1,
            },
        ];
        let a = draw(&ranges, 3, 100, 7, 0.3);
        assert_eq!(a, draw(&ranges, 3, 100, 7, 0.3));
        assert_ne!(a, draw(&ranges, 3, 100, 8, 0.3));
        // Driver 1 has no range: factor 1 everywhere.
        assert!(a.iter().all(|o| o.factors[1] == 1.0));
    }

    #[test]
    fn full_correlation_moves_every_factor_together() {
        // With rho = 1 every driver's u is the common Phi(z0): equal ranges give
        // equal factors in every outcome; with rho = 0 they differ.
        let ranges = [0, 1].map(|driver| Range {
            driver,
            low: 0.5,
            high: 1.5,
        });
        let together = draw(&ranges, 2, 200, 1, 1.0);
        assert!(together
            .iter()
            .all(|o| (o.factors[0] - o.factors[1]).abs() < 1e-12));
        let apart = draw(&ranges, 2, 200, 1, 0.0);
        assert!(apart
            .iter()
            .any(|o| (o.factors[0] - o.factors[1]).abs() > 0.1));
    }

    #[test]
    fn many_draws_have_the_triangular_mean() {
        // The sample mean of 100,000 draws is within 5 standard errors of the
        // mean (low + 1 + high) / 3 = 1.0 (variance of a triangular on
        // [0.5, 1.5] with mode 1: (a^2 + b^2 + c^2 - ab - ac - bc) / 18 = 0.25 / 6).
        let range = Range {
            driver: 0,
            low: 0.5,
            high: 1.5,
        };
        let outcomes = draw(&[range], 1, 100_000, 42, 0.0);
        let mean: f64 = outcomes.iter().map(|o| o.factors[0]).sum::<f64>() / 1e5;
        let standard_error = (0.25f64 / 6.0 / 1e5).sqrt();
        assert!((mean - 1.0).abs() < 5.0 * standard_error, "{mean}");
    }

    #[test]
    fn percentiles_and_tail_by_hand() {
        // Revenues 10, 20, 30, 40 weighing 0.1, 0.4, 0.3, 0.2: P10 = 10 (0.1 at or
        // below), P50 = 20 (0.5), P90 = 40 (0.8 at 30 is short of 0.9). The worst
        // 30 %: 0.1 at 10 and 0.2 of the 0.4 at 20: (1 + 4) / 0.3 = 16.67. Mean
        // 1 + 8 + 9 + 8 = 26.
        let totals = [(0.1, 10.0), (0.4, 20.0), (0.3, 30.0), (0.2, 40.0)]
            .map(|(weight, revenue)| OutcomeTotals {
                weight,
                revenue,
                contribution: revenue / 2.0,
            })
            .to_vec();
        let d = distribution(totals, Some(25.0), Some(0.5), Some(15.0), Some(0.7));
        assert_eq!((d.p10, d.p50, d.p90), (10.0, 20.0, 40.0));
        assert!((d.mean - 26.0).abs() < 1e-12);
        assert!((d.probability_target.unwrap_or(0.0) - 0.5).abs() < 1e-12);
        assert!((d.probability_min_margin.unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert!((d.probability_min_contribution.unwrap_or(0.0) - 0.5).abs() < 1e-12);
        assert!((d.tail_mean.unwrap_or(0.0) - 5.0 / 0.3).abs() < 1e-9);
    }
}
