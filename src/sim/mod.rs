//! The deterministic call simulator behind `callconf load` in virtual time.
//!
//! A run is the union of independent cells (see `cell.rs`). Cells run on a pool of threads in
//! any order; their statistics are merged in cell order, so the report depends only on the
//! scenario and the seed, never on thread timing. A shard `K/N` runs the cells `c` with
//! `c % N == K`; merging the N shard reports gives exactly the single run's report.

mod arrivals;
mod cell;
mod script;
pub mod stats;
mod wheel;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

pub use cell::{CellPlan, Control};
pub use stats::{Interval, Outcome, Stats};

use crate::scenario::Scenario;

/// Which part of the cells a run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, as Kubernetes' `JOB_COMPLETION_INDEX`.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N` with `0 <= K < N`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not K/N"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("{k:?} is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= K < N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimError {
    #[error("shard {shard}: the scenario has only {cells} cells, so at most {cells} shards")]
    TooManyShards { shard: Shard, cells: u32 },
}

/// What a simulation produced.
pub struct SimResult {
    pub stats: Stats,
    pub seed: u64,
    pub shard: Shard,
    /// The cells this run covered, ascending.
    pub cells: Vec<u32>,
    pub interrupted: bool,
    /// Wall time; never part of the deterministic report.
    pub wall: Duration,
}

/// A seed for cell `index` from the run's seed (SplitMix64 finaliser).
pub fn cell_seed(seed: u64, index: u32) -> u64 {
    let mut z = seed ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The plan of every cell of the scenario.
pub fn cell_plans(sc: &Scenario, seed: u64) -> Vec<CellPlan> {
    let cells = sc.population.cells;
    let users = sc.population.users;
    let n = u64::from(cells);
    let mut first = 0;
    (0..cells)
        .map(|i| {
            let count = users / n + u64::from(u64::from(i) < users % n);
            let plan = CellPlan {
                index: i,
                cells,
                seed: cell_seed(seed, i),
                first_user: first,
                users: count,
                concurrent_max: sc.calls.concurrent_max.map(|m| m.div_ceil(n)),
            };
            first += count;
            plan
        })
        .collect()
}

/// Runs the shard's cells on `threads` threads and merges their statistics in cell order.
pub fn run(
    sc: &Scenario,
    seed: u64,
    shard: Shard,
    threads: usize,
    control: &Control,
) -> Result<SimResult, SimError> {
    if shard.count > sc.population.cells {
        return Err(SimError::TooManyShards {
            shard,
            cells: sc.population.cells,
        });
    }
    let started = Instant::now();
    let plans: Vec<CellPlan> = cell_plans(sc, seed)
        .into_iter()
        .filter(|p| p.index % shard.count == shard.index)
        .collect();
    let results: Mutex<Vec<Option<Stats>>> = Mutex::new((0..plans.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, plans.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                // Bounded: each pass takes a distinct cell index until none is left.
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(i) else { break };
                    let stats = cell::Cell::new(sc, plan.clone(), control).run();
                    results.lock().expect("results lock")[i] = Some(stats);
                }
            });
        }
    });
    let interval_ms = (sc.report.interval_s * 1000.0).round().max(1.0) as u64;
    let mut stats = Stats::new(interval_ms);
    for s in results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .flatten()
    {
        stats.merge(&s);
    }
    stats.finish();
    Ok(SimResult {
        stats,
        seed,
        shard,
        cells: plans.iter().map(|p| p.index).collect(),
        interrupted: control.interrupt.load(Ordering::Relaxed),
        wall: started.elapsed(),
    })
}
