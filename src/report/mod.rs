//! The load report: one JSON document per run (or shard), exact enough to merge.
//!
//! The JSON holds only what the scenario and seed determine (no wall-clock figures), so two runs
//! of the same scenario and seed write byte-identical files. Histograms are embedded in
//! HdrHistogram's V2 encoding (base64), which is what makes `callconf merge` exact.

mod csv;
mod html;
mod table;

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use csv::to_csv;
pub use html::to_html;
pub use table::summary;

use crate::scenario::{HISTOGRAMS, Threshold};
use crate::sim::{Interval, Outcome, Shard, SimResult, Stats, stats};

/// The report format's version; bumped on any incompatible change.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub format: u32,
    pub scenario: String,
    /// `virtual` or `realtime`.
    pub mode: String,
    pub seed: u64,
    pub shard_index: u32,
    pub shard_count: u32,
    /// Cells covered (all of them for a single run or a full merge).
    pub cells: Vec<u32>,
    pub cells_total: u32,
    pub interrupted: bool,
    pub interval_ms: u64,
    pub end_ms: u64,
    pub last_start_ms: u64,
    pub calls: Calls,
    pub outcomes: BTreeMap<String, u64>,
    pub success_ratio: f64,
    pub achieved_rate_per_s: f64,
    pub requests: u64,
    pub deliveries: u64,
    pub latency: BTreeMap<String, Latency>,
    pub timeseries: Vec<Row>,
    pub thresholds: Vec<Verdict>,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calls {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub lost: u64,
    pub throttled: u64,
    pub concurrent_peak: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// The histogram, HdrHistogram V2 encoding, base64.
    pub encoded: String,
}

/// One interval of the time series (`deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub t_s: f64,
    #[serde(flatten)]
    pub interval: Interval,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub value: f64,
    pub passed: bool,
}

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{file}: not a callconf report: {reason}")]
    Malformed { file: String, reason: String },
    #[error("{file}: cannot merge: {reason}")]
    Incompatible { file: String, reason: String },
    #[error("nothing to merge")]
    Empty,
}

fn latency(h: &Histogram<u64>) -> Latency {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing a histogram into memory cannot fail");
    let empty = h.is_empty();
    let q = |q: f64| if empty { 0 } else { h.value_at_quantile(q) };
    Latency {
        count: h.len(),
        min: if empty { 0 } else { h.min() },
        // Rounded so that the JSON does not depend on float summation order.
        mean: (h.mean() * 1000.0).round() / 1000.0,
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
        max: if empty { 0 } else { h.max() },
        encoded: base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

fn decode(file: &str, l: &Latency) -> Result<Histogram<u64>, ReportError> {
    let malformed = |reason: String| ReportError::Malformed {
        file: file.to_owned(),
        reason,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&l.encoded)
        .map_err(|e| malformed(format!("histogram is not base64: {e}")))?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| malformed(format!("histogram does not decode: {e:?}")))?;
    // Re-home into the standard bounds so histograms from any run add.
    let mut out = stats::histogram();
    out.add(&h)
        .map_err(|e| malformed(format!("histogram out of range: {e:?}")))?;
    Ok(out)
}

impl Report {
    /// Builds the report of a run and evaluates the thresholds.
    pub fn new(
        scenario: &str,
        mode: &str,
        r: &SimResult,
        cells_total: u32,
        thresholds: &[Threshold],
    ) -> Self {
        Self::from_stats(
            scenario,
            mode,
            &r.stats,
            r.seed,
            r.shard,
            r.cells.clone(),
            cells_total,
            r.interrupted,
            thresholds,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn from_stats(
        scenario: &str,
        mode: &str,
        s: &Stats,
        seed: u64,
        shard: Shard,
        cells: Vec<u32>,
        cells_total: u32,
        interrupted: bool,
        thresholds: &[Threshold],
    ) -> Self {
        let mut outcomes = BTreeMap::new();
        for o in Outcome::ALL {
            outcomes.insert(
                o.name().to_owned(),
                s.outcomes.get(&o).copied().unwrap_or(0),
            );
        }
        let success_ratio = if s.started == 0 {
            0.0
        } else {
            s.succeeded as f64 / s.started as f64
        };
        let achieved_rate_per_s = if s.last_start_ms == 0 {
            0.0
        } else {
            s.started as f64 * 1000.0 / s.last_start_ms as f64
        };
        let mut latency_map = BTreeMap::new();
        latency_map.insert("setup_ms".to_owned(), latency(&s.setup_ms));
        latency_map.insert(
            "ring_to_answer_ms".to_owned(),
            latency(&s.ring_to_answer_ms),
        );
        latency_map.insert("event_latency_ms".to_owned(), latency(&s.event_latency_ms));
        let timeseries = s
            .intervals
            .iter()
            .enumerate()
            .map(|(i, iv)| Row {
                t_s: (i as u64 * s.interval_ms) as f64 / 1000.0,
                interval: iv.clone(),
            })
            .collect();
        let mut report = Report {
            format: FORMAT,
            scenario: scenario.to_owned(),
            mode: mode.to_owned(),
            seed,
            shard_index: shard.index,
            shard_count: shard.count,
            cells,
            cells_total,
            interrupted,
            interval_ms: s.interval_ms,
            end_ms: s.end_ms,
            last_start_ms: s.last_start_ms,
            calls: Calls {
                started: s.started,
                succeeded: s.succeeded,
                failed: s.failed,
                lost: s.lost,
                throttled: s.throttled,
                concurrent_peak: s.concurrent_peak(),
            },
            outcomes,
            success_ratio: (success_ratio * 1e9).round() / 1e9,
            achieved_rate_per_s: (achieved_rate_per_s * 1000.0).round() / 1000.0,
            requests: s.requests,
            deliveries: s.deliveries,
            latency: latency_map,
            timeseries,
            thresholds: Vec::new(),
            passed: true,
        };
        report.thresholds = thresholds.iter().map(|t| report.judge(t)).collect();
        report.passed = report.thresholds.iter().all(|v| v.passed);
        report
    }

    /// The value of a metric named as in thresholds (see `scenario::metric_names`).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let c = &self.calls;
        let scalar = match name {
            "calls_started" => Some(c.started as f64),
            "calls_succeeded" => Some(c.succeeded as f64),
            "calls_failed" => Some(c.failed as f64),
            "lost_calls" => Some(c.lost as f64),
            "throttled" => Some(c.throttled as f64),
            "success_ratio" => Some(self.success_ratio),
            "achieved_rate_per_s" => Some(self.achieved_rate_per_s),
            "concurrent_peak" => Some(c.concurrent_peak as f64),
            _ => None,
        };
        if scalar.is_some() {
            return scalar;
        }
        if let Some(o) = name.strip_prefix("outcome.") {
            return self.outcomes.get(o).map(|v| *v as f64);
        }
        let (h, stat) = name.split_once('.')?;
        if !HISTOGRAMS.contains(&h) {
            return None;
        }
        let l = self.latency.get(h)?;
        Some(match stat {
            "p50" => l.p50 as f64,
            "p90" => l.p90 as f64,
            "p99" => l.p99 as f64,
            "p999" => l.p999 as f64,
            "max" => l.max as f64,
            "mean" => l.mean,
            _ => return None,
        })
    }

    fn judge(&self, t: &Threshold) -> Verdict {
        let value = self.metric(&t.metric).unwrap_or(f64::NAN);
        let passed = value.is_finite()
            && t.min.is_none_or(|m| value >= m)
            && t.max.is_none_or(|m| value <= m);
        Verdict {
            metric: t.metric.clone(),
            min: t.min,
            max: t.max,
            value,
            passed,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report serializes");
        s.push('\n');
        s
    }

    pub fn from_json(file: &str, text: &str) -> Result<Self, ReportError> {
        let r: Report = serde_json::from_str(text).map_err(|e| ReportError::Malformed {
            file: file.to_owned(),
            reason: format!("line {} column {}: {e}", e.line(), e.column()),
        })?;
        if r.format != FORMAT {
            return Err(ReportError::Malformed {
                file: file.to_owned(),
                reason: format!("format {} (this callconf reads {FORMAT})", r.format),
            });
        }
        Ok(r)
    }

    fn stats(&self, file: &str) -> Result<Stats, ReportError> {
        let mut s = Stats::new(self.interval_ms);
        s.started = self.calls.started;
        s.succeeded = self.calls.succeeded;
        s.failed = self.calls.failed;
        s.lost = self.calls.lost;
        s.throttled = self.calls.throttled;
        for o in Outcome::ALL {
            if let Some(&n) = self.outcomes.get(o.name()).filter(|n| **n > 0) {
                s.outcomes.insert(o, n);
            }
        }
        let get = |name: &str| {
            self.latency
                .get(name)
                .ok_or_else(|| ReportError::Malformed {
                    file: file.to_owned(),
                    reason: format!("no `{name}` histogram"),
                })
                .and_then(|l| decode(file, l))
        };
        s.setup_ms = get("setup_ms")?;
        s.ring_to_answer_ms = get("ring_to_answer_ms")?;
        s.event_latency_ms = get("event_latency_ms")?;
        s.intervals = self.timeseries.iter().map(|r| r.interval.clone()).collect();
        s.end_ms = self.end_ms;
        s.last_start_ms = self.last_start_ms;
        s.requests = self.requests;
        s.deliveries = self.deliveries;
        Ok(s)
    }

    /// Merges shard reports of one scenario and seed into the report of the cells they cover
    /// together; with every shard, that is exactly the single run's report.
    pub fn merge(
        reports: &[(String, Report)],
        thresholds: &[Threshold],
    ) -> Result<Report, ReportError> {
        let Some((first_file, first)) = reports.first() else {
            return Err(ReportError::Empty);
        };
        let mut stats = first.stats(first_file)?;
        let mut cells = first.cells.clone();
        let mut interrupted = first.interrupted;
        for (file, r) in &reports[1..] {
            let incompatible = |reason: String| ReportError::Incompatible {
                file: file.clone(),
                reason,
            };
            if (
                r.scenario.as_str(),
                r.seed,
                r.mode.as_str(),
                r.interval_ms,
                r.cells_total,
            ) != (
                first.scenario.as_str(),
                first.seed,
                first.mode.as_str(),
                first.interval_ms,
                first.cells_total,
            ) {
                return Err(incompatible(format!(
                    "scenario {:?} seed {} mode {} interval {} ms, {} cells differs from {first_file}",
                    r.scenario, r.seed, r.mode, r.interval_ms, r.cells_total
                )));
            }
            if let Some(c) = r.cells.iter().find(|c| cells.contains(c)) {
                return Err(incompatible(format!(
                    "cell {c} is already covered by another report"
                )));
            }
            stats.merge(&r.stats(file)?);
            cells.extend(&r.cells);
            interrupted |= r.interrupted;
        }
        cells.sort_unstable();
        stats.finish();
        let whole = cells.len() as u32 == first.cells_total;
        let shard = if whole {
            Shard::WHOLE
        } else {
            Shard {
                index: first.shard_index,
                count: first.shard_count,
            }
        };
        Ok(Report::from_stats(
            &first.scenario,
            &first.mode,
            &stats,
            first.seed,
            shard,
            cells,
            first.cells_total,
            interrupted,
            thresholds,
        ))
    }

    /// Thresholds as they were given, recovered from the verdicts (for merging without YAML).
    pub fn threshold_specs(&self) -> Vec<Threshold> {
        self.thresholds
            .iter()
            .map(|v| Threshold {
                metric: v.metric.clone(),
                min: v.min,
                max: v.max,
            })
            .collect()
    }
}
