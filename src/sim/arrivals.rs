//! Arrival processes, split over cells so that the union of all cells is the scenario's process:
//! constant and ramp arrivals are one global sequence dealt round-robin to the cells; Poisson
//! arrivals are independent per cell at an equal share of the rate (a sum of Poisson processes
//! is Poisson).

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use crate::scenario::{Arrival, Scenario};

pub struct Arrivals {
    arrival: Arrival,
    cells: u64,
    /// Next global arrival number (constant, ramp) or count placed by this cell (Poisson).
    k: u64,
    /// Arrivals this cell may make (Poisson), or in all (global sequences).
    limit: Option<u64>,
    stop_ms: Option<u64>,
    /// Poisson: time of the last arrival, in seconds.
    t_s: f64,
}

impl Arrivals {
    pub fn new(sc: &Scenario, index: u32, cells: u32) -> Self {
        let (index, cells) = (u64::from(index), u64::from(cells));
        let limit = match sc.calls.arrival {
            Arrival::Poisson { .. } => sc
                .calls
                .total
                .map(|t| t / cells + u64::from(index < t % cells)),
            _ => sc.calls.total,
        };
        let k = match sc.calls.arrival {
            Arrival::Poisson { .. } => 0,
            _ => index,
        };
        Self {
            arrival: sc.calls.arrival.clone(),
            cells,
            k,
            limit,
            stop_ms: sc.calls.duration_s.map(|d| (d * 1000.0).round() as u64),
            t_s: 0.0,
        }
    }

    /// The time of this cell's next arrival, in ms, or `None` when it is done.
    pub fn next(&mut self, rng: &mut ChaCha8Rng) -> Option<u64> {
        if self.limit.is_some_and(|l| self.k >= l) {
            return None;
        }
        let t_s = match self.arrival {
            Arrival::Constant { rate_per_s } => {
                let t = self.k as f64 / rate_per_s;
                self.k += self.cells;
                t
            }
            Arrival::Ramp {
                from_per_s,
                to_per_s,
                over_s,
            } => {
                let t = ramp_inverse((self.k + 1) as f64, from_per_s, to_per_s, over_s);
                self.k += self.cells;
                t
            }
            Arrival::Poisson { rate_per_s } => {
                let rate = rate_per_s / self.cells as f64;
                let gap = Exp::new(rate).map_or(1.0 / rate, |d| d.sample(rng));
                self.t_s += gap;
                self.k += 1;
                self.t_s
            }
        };
        let t_ms = (t_s * 1000.0).round() as u64;
        if self.stop_ms.is_some_and(|s| t_ms >= s) {
            self.limit = Some(0);
            return None;
        }
        Some(t_ms)
    }
}

/// The time (s) at which the ramp's cumulative count reaches `y`.
fn ramp_inverse(y: f64, from: f64, to: f64, over: f64) -> f64 {
    let a = (to - from) / (2.0 * over);
    let at_end = from * over + a * over * over;
    if y > at_end {
        return over + (y - at_end) / to;
    }
    if a.abs() < 1e-12 {
        return y / from;
    }
    (-from + (from * from + 4.0 * a * y).sqrt()) / (2.0 * a)
}

#[cfg(test)]
mod tests {
    use super::ramp_inverse;

    #[test]
    fn ramp_inverse_matches_the_cumulative_count() {
        // 0 → 10/s over 10 s: 50 arrivals by 10 s, then 10/s.
        assert!((ramp_inverse(50.0, 0.0, 10.0, 10.0) - 10.0).abs() < 1e-9);
        assert!((ramp_inverse(60.0, 0.0, 10.0, 10.0) - 11.0).abs() < 1e-9);
        assert!((ramp_inverse(12.5, 0.0, 10.0, 10.0) - 5.0).abs() < 1e-9);
        // Flat ramp is a constant rate.
        assert!((ramp_inverse(7.0, 2.0, 2.0, 10.0) - 3.5).abs() < 1e-9);
    }
}
