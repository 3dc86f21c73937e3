//! The simulator's event queue: a timing wheel of 1 ms buckets over a fixed horizon, with a
//! binary heap for the few events further out.
//!
//! It pops in exactly `(time, push order)` order, as a binary heap of `(time, seq)` would, in
//! O(1) amortised per event. Why the order holds: pushes only target `time >= now`; a bucket
//! receives direct pushes in push order; an event parked in the far heap is moved into its bucket
//! as soon as `now` comes within the horizon of it, which is before any direct push can target
//! that bucket (a direct push needs `time < now + HORIZON` too), so it lands first, as its
//! earlier push order demands.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Width of the wheel in milliseconds (a power of two).
const HORIZON_MS: u64 = 1 << 16;

pub struct Wheel<T> {
    now_ms: u64,
    buckets: Vec<VecDeque<T>>,
    /// Events at `now_ms + HORIZON_MS` or later: `(time, seq, item)`.
    far: BinaryHeap<Reverse<(u64, u64, FarItem<T>)>>,
    seq: u64,
    len: usize,
}

/// Wraps an item so the far heap orders by `(time, seq)` only.
struct FarItem<T>(T);

impl<T> PartialEq for FarItem<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for FarItem<T> {}
impl<T> PartialOrd for FarItem<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for FarItem<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<T> Wheel<T> {
    pub fn new() -> Self {
        Self {
            now_ms: 0,
            buckets: (0..HORIZON_MS).map(|_| VecDeque::new()).collect(),
            far: BinaryHeap::new(),
            seq: 0,
            len: 0,
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `item` at `at_ms`, which is not before the last popped time.
    pub fn push(&mut self, at_ms: u64, item: T) {
        // The simulation never schedules into the past: every delay is >= 0.
        assert!(
            at_ms >= self.now_ms,
            "event at {at_ms} ms scheduled before now ({} ms)",
            self.now_ms
        );
        self.len += 1;
        if at_ms < self.now_ms + HORIZON_MS {
            self.buckets[(at_ms % HORIZON_MS) as usize].push_back(item);
        } else {
            self.seq += 1;
            self.far.push(Reverse((at_ms, self.seq, FarItem(item))));
        }
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        if self.len == 0 {
            return None;
        }
        // Bounded: `len > 0` means some bucket or the far heap holds an event; each step either
        // returns, moves time forward within the horizon, or jumps to the far heap's minimum.
        loop {
            if let Some(item) = self.buckets[(self.now_ms % HORIZON_MS) as usize].pop_front() {
                self.len -= 1;
                return Some((self.now_ms, item));
            }
            let near = self.len - self.far.len();
            if near == 0 {
                let Reverse((at, _, _)) = self.far.peek().expect("len counts the far heap");
                self.now_ms = *at;
            } else {
                self.now_ms += 1;
            }
            self.migrate();
        }
    }

    /// Moves far events that came within the horizon into their buckets, in `(time, seq)` order.
    fn migrate(&mut self) {
        while let Some(Reverse((at, _, _))) = self.far.peek() {
            if *at >= self.now_ms + HORIZON_MS {
                break;
            }
            let Reverse((at, _, FarItem(item))) = self.far.pop().expect("peeked");
            self.buckets[(at % HORIZON_MS) as usize].push_back(item);
        }
    }

    pub fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.far.clear();
        self.len = 0;
    }
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wheel pops in the same order as a heap of `(time, push order)`.
    #[test]
    fn pops_in_time_then_push_order_like_a_heap() {
        let mut wheel = Wheel::new();
        let mut heap = BinaryHeap::new();
        let mut x: u64 = 12345;
        let mut now = 0;
        let mut seq = 0;
        for round in 0..20_000u64 {
            // xorshift: a fixed pseudo-random mix of near, same-time and far delays.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let delay = match x % 4 {
                0 => 0,
                1 => x % 50,
                2 => x % 5_000,
                _ => HORIZON_MS + x % 500_000,
            };
            seq += 1;
            wheel.push(now + delay, seq);
            heap.push(Reverse((now + delay, seq)));
            if round % 3 != 0 {
                let (t, s) = wheel.pop().unwrap();
                let Reverse((ht, hs)) = heap.pop().unwrap();
                assert_eq!((t, s), (ht, hs));
                now = t;
            }
        }
        while let Some(Reverse(expected)) = heap.pop() {
            assert_eq!(wheel.pop(), Some(expected));
        }
        assert!(wheel.is_empty());
    }
}
