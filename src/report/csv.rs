//! The CSV time series, one row per interval, in the spirit of SIPp's statistics file: counts,
//! outcomes by cause, setup-time mean and max, and the response-time repartition.

use std::fmt::Write as _;

use super::Report;
use crate::sim::Outcome;
use crate::sim::stats::REPARTITION_MS;

pub fn to_csv(r: &Report) -> String {
    let mut out = String::from("t_s,started,ended,active,succeeded,failed,throttled");
    for o in Outcome::ALL {
        let _ = write!(out, ",{}", o.name());
    }
    out.push_str(",setup_count,setup_mean_ms,setup_max_ms");
    for b in REPARTITION_MS {
        let _ = write!(out, ",setup_lt_{b}ms");
    }
    let _ = writeln!(
        out,
        ",setup_ge_{}ms",
        REPARTITION_MS[REPARTITION_MS.len() - 1]
    );
    for row in &r.timeseries {
        let i = &row.interval;
        let _ = write!(
            out,
            "{},{},{},{},{},{},{}",
            row.t_s, i.started, i.ended, i.active, i.succeeded, i.failed, i.throttled
        );
        for o in Outcome::ALL {
            let _ = write!(out, ",{}", i.outcomes.get(o.name()).copied().unwrap_or(0));
        }
        let mean = if i.setup_count == 0 {
            0.0
        } else {
            i.setup_sum_ms as f64 / i.setup_count as f64
        };
        let _ = write!(out, ",{},{mean:.1},{}", i.setup_count, i.setup_max_ms);
        for b in 0..=REPARTITION_MS.len() {
            let _ = write!(out, ",{}", i.setup_repartition.get(b).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out
}
