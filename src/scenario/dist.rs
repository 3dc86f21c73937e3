//! Distributions of durations (answer delay, talk time, network latency), sampled with the
//! simulation's seeded generator so a seed replays a run exactly.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};
use serde::{Deserialize, Serialize};

/// A distribution of non-negative milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Constant { value: f64 },
    /// Uniform in `[min, max]`.
    Uniform { min: f64, max: f64 },
    /// Exponential with the given mean (memoryless: arrivals, talk times).
    Exponential { mean: f64 },
    /// Normal, cut at zero.
    Normal { mean: f64, stddev: f64 },
    /// Log-normal with the given median and shape `sigma` (long-tailed latencies).
    Lognormal { median: f64, sigma: f64 },
}

impl Dist {
    pub const fn constant(value: f64) -> Self {
        Dist::Constant { value }
    }

    /// Checks the parameters; the error names the offending parameter.
    pub fn check(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{name}` must be a finite number >= 0, not {v}"))
            }
        };
        match *self {
            Dist::Constant { value } => finite_nonneg("value", value),
            Dist::Uniform { min, max } => {
                finite_nonneg("min", min)?;
                finite_nonneg("max", max)?;
                if min > max {
                    return Err(format!("`min` ({min}) is above `max` ({max})"));
                }
                Ok(())
            }
            Dist::Exponential { mean } => {
                finite_nonneg("mean", mean)?;
                if mean == 0.0 {
                    return Err("`mean` must be above 0".into());
                }
                Ok(())
            }
            Dist::Normal { mean, stddev } => {
                finite_nonneg("mean", mean)?;
                finite_nonneg("stddev", stddev)
            }
            Dist::Lognormal { median, sigma } => {
                finite_nonneg("median", median)?;
                finite_nonneg("sigma", sigma)?;
                if median == 0.0 {
                    return Err("`median` must be above 0".into());
                }
                Ok(())
            }
        }
    }

    /// One sample in whole milliseconds. Parameters were checked when the scenario loaded.
    pub fn sample_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let v = match *self {
            Dist::Constant { value } => value,
            Dist::Uniform { min, max } => {
                if max > min {
                    rng.random_range(min..=max)
                } else {
                    min
                }
            }
            Dist::Exponential { mean } => Exp::new(1.0 / mean).map_or(mean, |d| d.sample(rng)),
            Dist::Normal { mean, stddev } => {
                Normal::new(mean, stddev).map_or(mean, |d| d.sample(rng))
            }
            Dist::Lognormal { median, sigma } => {
                LogNormal::new(median.ln(), sigma).map_or(median, |d| d.sample(rng))
            }
        };
        // Cut at zero and at a day: a sample is a duration inside one run.
        v.clamp(0.0, 86_400_000.0).round() as u64
    }

    /// The mean, for capacity estimates and reports.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Exponential { mean } | Dist::Normal { mean, .. } => mean,
            Dist::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
        }
    }
}
