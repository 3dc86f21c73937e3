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

/// `v.round() as u64` for `0 <= v <= 86_400_000` (and NaN, which gives 0 as the cast does),
/// without the call to libm's `round` that `f64::round` is on baseline x86-64 (it has no SSE4.1
/// rounding instruction): the simulator samples a latency for every message. Exact: `v - t` of
/// a double and its truncation below 2^52 is exact, and halves round away from zero, as `round`.
fn round_ms(v: f64) -> u64 {
    let t = v as u64;
    if v - t as f64 >= 0.5 { t + 1 } else { t }
}

/// A drawn value as the duration it stands for: cut at zero and at a day (a sample is a duration
/// inside one run), then rounded to whole milliseconds.
fn whole_ms(v: f64) -> u64 {
    round_ms(v.clamp(0.0, 86_400_000.0))
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
        whole_ms(v)
    }

    /// The value every sample takes, when it needs no random draw: a constant. Exactly what
    /// [`Dist::sample_ms`] returns for it, which draws nothing from the stream either, so a caller
    /// may use this instead of sampling without changing any later draw.
    pub fn fixed_ms(&self) -> Option<u64> {
        match *self {
            Dist::Constant { value } => Some(whole_ms(value)),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::round_ms;

    /// A constant's fixed value is what sampling it gives (and sampling it draws nothing); any
    /// other distribution has none.
    #[test]
    fn fixed_ms_is_the_sample_of_a_constant() {
        use super::Dist;
        use rand::{RngCore, SeedableRng};
        for value in [0.0, 9.5, 10.0, 10.49, 1e9, -3.0] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let d = Dist::constant(value);
            assert_eq!(d.fixed_ms(), Some(d.sample_ms(&mut rng)), "{value}");
            let mut fresh = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            assert_eq!(
                rng.next_u64(),
                fresh.next_u64(),
                "sampling {value} drew from the stream"
            );
        }
        assert_eq!(Dist::Uniform { min: 5.0, max: 9.0 }.fixed_ms(), None);
        assert_eq!(Dist::Exponential { mean: 5.0 }.fixed_ms(), None);
    }

    /// The libm-free rounding agrees with `f64::round` on whole numbers, halves, their
    /// neighbours and the range's ends.
    #[test]
    fn round_ms_is_round() {
        let mut values = vec![0.0, 0.5, 86_400_000.0, 86_399_999.5, f64::NAN];
        for i in 0..100_000u64 {
            let x = i as f64 * 0.25 + (i % 7) as f64 * 1234.5;
            values.extend([x, x.next_up(), x.next_down().max(0.0)]);
        }
        for v in values {
            assert_eq!(round_ms(v), v.round() as u64, "{v}");
        }
    }
}
