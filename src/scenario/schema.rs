//! The YAML scenario schema. Every key is documented here and in `docs/scenarios.md`; unknown keys
//! are errors (`deny_unknown_fields`), so a typo never silently changes a benchmark.

use serde::{Deserialize, Serialize};

use super::dist::Dist;
use crate::core::{CallType, Limits, Plan};

/// A load or simulation scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The default seed (`--seed` overrides it).
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub population: Population,
    pub calls: Calls,
    #[serde(default)]
    pub callee: Callee,
    #[serde(default)]
    pub caller: Caller,
    /// How long an answered call lasts, from the answer to the caller's hang-up.
    #[serde(default = "default_talk")]
    pub talk_time_ms: Dist,
    #[serde(default)]
    pub actions: Actions,
    #[serde(default)]
    pub network: Network,
    /// Scheduled faults.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Pass/fail conditions on the report; any failed one makes the exit code non-zero.
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub report: ReportSettings,
    /// Overrides of the reference server's limits (e.g. `ring_timeout_ms`).
    #[serde(default)]
    pub limits: Limits,
}

fn default_seed() -> u64 {
    1
}

fn default_talk() -> Dist {
    Dist::Exponential { mean: 60_000.0 }
}

/// Who is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Users in all (each belongs to one cell).
    pub users: u64,
    #[serde(default = "one")]
    pub devices_per_user: u32,
    /// Share of users with call waiting on.
    #[serde(default)]
    pub call_waiting_share: f64,
    /// Share of users that are phone lines (blind transfer needs an app-to-phone call).
    #[serde(default)]
    pub phone_share: f64,
    /// Plans and the share of users on each; empty means everybody has the full plan.
    #[serde(default)]
    pub plans: Vec<PlanShare>,
    /// Independent partitions of the population, each with its own server core and random
    /// stream; calls stay inside a cell. Shards and threads split a run by cells, which is why a
    /// merge of shards equals the single run.
    #[serde(default = "default_cells")]
    pub cells: u32,
}

fn one() -> u32 {
    1
}

fn default_cells() -> u32 {
    16
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanShare {
    pub share: f64,
    pub plan: Plan,
}

/// How many calls, how they arrive, and of what kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calls {
    /// Stop placing calls after this many (over all cells).
    #[serde(default)]
    pub total: Option<u64>,
    /// Stop placing calls after this long. At least one of `total` and `duration_s` is given.
    #[serde(default)]
    pub duration_s: Option<f64>,
    pub arrival: Arrival,
    /// At most this many calls alive at once (over all cells); an arrival past it is skipped
    /// and counted as `throttled`.
    #[serde(default)]
    pub concurrent_max: Option<u64>,
    /// The call mix; shares sum to 1. Default: all 1:1 audio.
    #[serde(default = "default_mix")]
    pub mix: Vec<MixEntry>,
}

fn default_mix() -> Vec<MixEntry> {
    vec![MixEntry {
        share: 1.0,
        call_type: CallType::Audio,
        participants: 2,
    }]
}

/// The arrival process (over all cells; each cell gets an equal part of the rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrival {
    /// Evenly spaced.
    Constant { rate_per_s: f64 },
    /// Exponential gaps.
    Poisson { rate_per_s: f64 },
    /// Linear ramp of a constant rate from `from_per_s` to `to_per_s` over `over_s`, then flat.
    Ramp {
        from_per_s: f64,
        to_per_s: f64,
        over_s: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    pub share: f64,
    #[serde(rename = "type")]
    pub call_type: CallType,
    /// 2 is a 1:1 call; more is a group call of that many, the caller included.
    #[serde(default = "two")]
    pub participants: u32,
}

fn two() -> u32 {
    2
}

/// What invitees do; `answer + decline + no_answer + busy` is 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callee {
    pub answer: f64,
    pub decline: f64,
    /// Let it ring until the ring timeout.
    pub no_answer: f64,
    /// Reject with 486 Busy Here.
    pub busy: f64,
    /// From the invitation reaching the device to its answer.
    #[serde(default = "default_answer_delay")]
    pub answer_delay_ms: Dist,
    /// From the invitation reaching the device to a decline or busy.
    #[serde(default = "default_decline_delay")]
    pub decline_delay_ms: Dist,
}

fn default_answer_delay() -> Dist {
    Dist::Uniform {
        min: 1000.0,
        max: 6000.0,
    }
}

fn default_decline_delay() -> Dist {
    Dist::Uniform {
        min: 500.0,
        max: 3000.0,
    }
}

impl Default for Callee {
    fn default() -> Self {
        Self {
            answer: 1.0,
            decline: 0.0,
            no_answer: 0.0,
            busy: 0.0,
            answer_delay_ms: default_answer_delay(),
            decline_delay_ms: default_decline_delay(),
        }
    }
}

/// What callers do besides placing and hanging up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caller {
    /// Probability that the caller cancels before an answer.
    #[serde(default)]
    pub cancel: f64,
    /// When, from placing, a cancelling caller gives up.
    #[serde(default = "default_cancel_after")]
    pub cancel_after_ms: Dist,
}

fn default_cancel_after() -> Dist {
    Dist::Uniform {
        min: 1000.0,
        max: 10_000.0,
    }
}

impl Default for Caller {
    fn default() -> Self {
        Self {
            cancel: 0.0,
            cancel_after_ms: default_cancel_after(),
        }
    }
}

/// In-call actions of answered calls, each with its probability per call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    /// The caller holds, then resumes after `hold_ms`.
    #[serde(default)]
    pub hold: f64,
    #[serde(default = "default_hold")]
    pub hold_ms: Dist,
    /// The callee mutes its audio.
    #[serde(default)]
    pub mute: f64,
    /// The caller sends DTMF digits.
    #[serde(default)]
    pub dtmf: f64,
    /// The callee blind-transfers an app-to-phone call to another user of its cell.
    #[serde(default)]
    pub transfer: f64,
}

fn default_hold() -> Dist {
    Dist::constant(5000.0)
}

impl Default for Actions {
    fn default() -> Self {
        Self {
            hold: 0.0,
            hold_ms: default_hold(),
            mute: 0.0,
            dtmf: 0.0,
            transfer: 0.0,
        }
    }
}

/// One-way delay of every signaling message between a device and the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(default = "default_latency")]
    pub latency_ms: Dist,
    /// Share of messages lost and resent by the transport after `retransmit_ms` (signaling runs
    /// over a reliable transport: loss shows as delay, never as a missing message).
    #[serde(default)]
    pub loss_pct: f64,
    #[serde(default = "default_retransmit")]
    pub retransmit_ms: u64,
    /// Periods with other conditions.
    #[serde(default)]
    pub schedule: Vec<NetworkPhase>,
}

fn default_latency() -> Dist {
    Dist::constant(20.0)
}

fn default_retransmit() -> u64 {
    200
}

impl Network {
    /// The one-way delay of every message, when it is the same for all of them and costs no
    /// random draw: a constant latency, no loss, no schedule. The simulator then skips sampling,
    /// which draws nothing from its stream in that case either.
    pub fn fixed_latency_ms(&self) -> Option<u64> {
        if self.schedule.is_empty() && self.loss_pct <= 0.0 {
            self.latency_ms.fixed_ms()
        } else {
            None
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Self {
            latency_ms: default_latency(),
            loss_pct: 0.0,
            retransmit_ms: default_retransmit(),
            schedule: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPhase {
    pub at_s: f64,
    pub duration_s: f64,
    #[serde(default)]
    pub latency_ms: Option<Dist>,
    #[serde(default)]
    pub loss_pct: Option<f64>,
}

/// A scheduled fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// A share of devices loses its connection at `at_s` and gets it back `duration_s` later.
    Partition {
        at_s: f64,
        duration_s: f64,
        share: f64,
    },
    /// A share of devices crashes at `at_s` and reconnects `reconnect_after_s` later.
    Crash {
        at_s: f64,
        share: f64,
        reconnect_after_s: f64,
    },
}

/// `metric` must stay at or below `max`, or at or above `min` (exactly one of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub metric: String,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub min: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// Width of one row of the CSV time series.
    #[serde(default = "default_interval")]
    pub interval_s: f64,
}

fn default_interval() -> f64 {
    1.0
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            interval_s: default_interval(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dist, Network, NetworkPhase};

    /// Only a constant latency with no loss and no schedule is the same for every message.
    #[test]
    fn fixed_latency_needs_constant_latency_no_loss_no_schedule() {
        let plain = Network {
            latency_ms: Dist::constant(10.0),
            ..Network::default()
        };
        assert_eq!(plain.fixed_latency_ms(), Some(10));
        let lossy = Network {
            loss_pct: 0.5,
            ..plain.clone()
        };
        assert_eq!(lossy.fixed_latency_ms(), None);
        let scheduled = Network {
            schedule: vec![NetworkPhase {
                at_s: 5.0,
                duration_s: 1.0,
                latency_ms: Some(Dist::constant(300.0)),
                loss_pct: None,
            }],
            ..plain.clone()
        };
        assert_eq!(scheduled.fixed_latency_ms(), None);
        let jittery = Network {
            latency_ms: Dist::Uniform {
                min: 5.0,
                max: 15.0,
            },
            ..plain
        };
        assert_eq!(jittery.fixed_latency_ms(), None);
    }
}
