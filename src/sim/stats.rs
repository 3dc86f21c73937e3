//! What a run measures. Everything here merges exactly (counts add, HDR histograms add), which is
//! what lets shard reports combine into the single run's report.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// How a call ended, from the caller's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered, then hung up normally.
    Completed,
    Declined,
    /// 486: the callee was busy (declined with 486, or in another call).
    Busy,
    /// Nobody answered before the ring timeout.
    NoAnswer,
    /// The caller cancelled before an answer.
    Cancelled,
    /// 480: no device of the callee was connected.
    Unavailable,
    /// Placing was refused for another reason (plan, capacity).
    Rejected,
    /// A device lost its connection and the call could not go on.
    Disconnected,
    TransferFailed,
    /// Still alive when the run was interrupted (Ctrl-C).
    Interrupted,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Completed,
        Outcome::Declined,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Cancelled,
        Outcome::Unavailable,
        Outcome::Rejected,
        Outcome::Disconnected,
        Outcome::TransferFailed,
        Outcome::Interrupted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Declined => "declined",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no_answer",
            Outcome::Cancelled => "cancelled",
            Outcome::Unavailable => "unavailable",
            Outcome::Rejected => "rejected",
            Outcome::Disconnected => "disconnected",
            Outcome::TransferFailed => "transfer_failed",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// How a call ended, as its caller sees it: `answered` says whether the caller heard an
    /// answer (a normal clearing before one is a cancel).
    pub fn of_end(reason: &crate::core::EndReason, answered: bool) -> Outcome {
        use crate::core::EndReason as R;
        match reason {
            R::HungUp { .. } | R::EndedForEveryone { .. } if answered => Outcome::Completed,
            R::HungUp { .. } | R::EndedForEveryone { .. } | R::Cancelled { .. } => {
                Outcome::Cancelled
            }
            R::Declined { code: 486, .. } => Outcome::Busy,
            R::Declined { .. } => Outcome::Declined,
            R::NoAnswer => Outcome::NoAnswer,
            R::Disconnected { .. } => Outcome::Disconnected,
            R::TransferFailed { .. } => Outcome::TransferFailed,
        }
    }

    /// An outcome the protocol defines for a working system (as opposed to a failure): a
    /// transfer whose target declined is clean, a call lost to a disconnection is not.
    pub fn is_clean(self) -> bool {
        matches!(
            self,
            Outcome::Completed
                | Outcome::Declined
                | Outcome::Busy
                | Outcome::NoAnswer
                | Outcome::Cancelled
                | Outcome::TransferFailed
        )
    }
}

/// Upper bounds (ms) of the response-time repartition buckets, as in SIPp's statistics file;
/// the last bucket is everything above the last bound.
pub const REPARTITION_MS: [u64; 8] = [10, 20, 50, 100, 200, 500, 1000, 2000];

/// One row of the time series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub started: u64,
    pub ended: u64,
    /// Calls alive at the end of the interval.
    pub active: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub throttled: u64,
    /// Ended calls by outcome name.
    pub outcomes: BTreeMap<String, u64>,
    /// Setup times observed in the interval: count, sum and max (ms), and the repartition.
    pub setup_count: u64,
    pub setup_sum_ms: u64,
    pub setup_max_ms: u64,
    pub setup_repartition: Vec<u64>,
}

impl Interval {
    pub fn merge(&mut self, o: &Interval) {
        self.started += o.started;
        self.ended += o.ended;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.throttled += o.throttled;
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        self.setup_count += o.setup_count;
        self.setup_sum_ms += o.setup_sum_ms;
        self.setup_max_ms = self.setup_max_ms.max(o.setup_max_ms);
        if self.setup_repartition.len() < o.setup_repartition.len() {
            self.setup_repartition.resize(o.setup_repartition.len(), 0);
        }
        for (a, b) in self.setup_repartition.iter_mut().zip(&o.setup_repartition) {
            *a += b;
        }
    }
}

/// A latency histogram in milliseconds, 1 ms to one hour, three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000, 3).expect("static histogram bounds are valid")
}

/// What one cell (or a merge of cells) measured.
pub struct Stats {
    pub interval_ms: u64,
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub throttled: u64,
    /// Started calls with no outcome when the run stopped. Zero unless the core lost a call.
    pub lost: u64,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub setup_ms: Histogram<u64>,
    pub ring_to_answer_ms: Histogram<u64>,
    pub event_latency_ms: Histogram<u64>,
    pub intervals: Vec<Interval>,
    /// Virtual time at which the last call ended.
    pub end_ms: u64,
    /// Virtual time of the last call placed.
    pub last_start_ms: u64,
    /// Requests and deliveries exchanged with the server.
    pub requests: u64,
    pub deliveries: u64,
}

impl Stats {
    pub fn new(interval_ms: u64) -> Self {
        Self {
            interval_ms,
            started: 0,
            succeeded: 0,
            failed: 0,
            throttled: 0,
            lost: 0,
            outcomes: BTreeMap::new(),
            setup_ms: histogram(),
            ring_to_answer_ms: histogram(),
            event_latency_ms: histogram(),
            intervals: Vec::new(),
            end_ms: 0,
            last_start_ms: 0,
            requests: 0,
            deliveries: 0,
        }
    }

    pub fn interval(&mut self, at_ms: u64) -> &mut Interval {
        let i = (at_ms / self.interval_ms) as usize;
        if self.intervals.len() <= i {
            self.intervals.resize(i + 1, Interval::default());
        }
        &mut self.intervals[i]
    }

    pub fn record_start(&mut self, at_ms: u64) {
        self.started += 1;
        self.last_start_ms = self.last_start_ms.max(at_ms);
        self.interval(at_ms).started += 1;
    }

    pub fn record_throttled(&mut self, at_ms: u64) {
        self.throttled += 1;
        self.interval(at_ms).throttled += 1;
    }

    pub fn record_setup(&mut self, at_ms: u64, setup_ms: u64) {
        // Values are clamped into the histogram's range; 0 ms records as 1 ms.
        let _ = self.setup_ms.record(setup_ms.clamp(1, 3_600_000));
        let row = self.interval(at_ms);
        row.setup_count += 1;
        row.setup_sum_ms += setup_ms;
        row.setup_max_ms = row.setup_max_ms.max(setup_ms);
        if row.setup_repartition.is_empty() {
            row.setup_repartition = vec![0; REPARTITION_MS.len() + 1];
        }
        let bucket = REPARTITION_MS
            .iter()
            .position(|b| setup_ms < *b)
            .unwrap_or(REPARTITION_MS.len());
        row.setup_repartition[bucket] += 1;
    }

    pub fn record_end(&mut self, at_ms: u64, outcome: Outcome, success: bool) {
        *self.outcomes.entry(outcome).or_default() += 1;
        if success {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        self.end_ms = self.end_ms.max(at_ms);
        let row = self.interval(at_ms);
        row.ended += 1;
        if success {
            row.succeeded += 1;
        } else {
            row.failed += 1;
        }
        // Looked up by name first: `entry` takes an owned key, an allocation per call.
        match row.outcomes.get_mut(outcome.name()) {
            Some(n) => *n += 1,
            None => {
                row.outcomes.insert(outcome.name().to_owned(), 1);
            }
        }
    }

    /// Fills in `active` from the started and ended counts (after all merging).
    pub fn finish(&mut self) {
        let mut active: u64 = 0;
        for row in &mut self.intervals {
            active = (active + row.started).saturating_sub(row.ended);
            row.active = active;
        }
    }

    /// The largest `active` at an interval boundary.
    pub fn concurrent_peak(&self) -> u64 {
        self.intervals.iter().map(|r| r.active).max().unwrap_or(0)
    }

    pub fn merge(&mut self, o: &Stats) {
        assert_eq!(
            self.interval_ms, o.interval_ms,
            "merged runs share an interval"
        );
        self.started += o.started;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.throttled += o.throttled;
        self.lost += o.lost;
        for (k, v) in &o.outcomes {
            *self.outcomes.entry(*k).or_default() += v;
        }
        self.setup_ms
            .add(&o.setup_ms)
            .expect("same histogram bounds");
        self.ring_to_answer_ms
            .add(&o.ring_to_answer_ms)
            .expect("same histogram bounds");
        self.event_latency_ms
            .add(&o.event_latency_ms)
            .expect("same histogram bounds");
        if self.intervals.len() < o.intervals.len() {
            self.intervals
                .resize(o.intervals.len(), Interval::default());
        }
        for (a, b) in self.intervals.iter_mut().zip(&o.intervals) {
            a.merge(b);
        }
        self.end_ms = self.end_ms.max(o.end_ms);
        self.last_start_ms = self.last_start_ms.max(o.last_start_ms);
        self.requests += o.requests;
        self.deliveries += o.deliveries;
    }
}
