//! The simulator's event queue: a timing wheel of 1 ms buckets over a fixed horizon, with a
//! binary heap for the few events further out.
//!
//! It pops in exactly `(time, push order)` order, as a binary heap of `(time, seq)` would, in
//! O(1) amortised per event. Why the order holds: pushes only target `time >= now`; a bucket
//! receives direct pushes in push order; an event parked in the far heap is moved into its bucket
//! as soon as `now` comes within the horizon of it, which is before any direct push can target
//! that bucket (a direct push needs `time < now + HORIZON` too), so it lands first, as its
//! earlier push order demands.
//!
//! Why it is laid out this way (the simulator pushes and pops every event of a run through it,
//! a few hundred million for `scenarios/million.yaml`): the events live in one slab of nodes,
//! reused last-freed first (a free list through the same links), and each bucket is a singly linked FIFO list through that slab (a
//! head and a tail index, 8 bytes a bucket), so a push or a pop allocates nothing and touches
//! one bucket and one node. An occupancy bitmap (a bit a bucket) lets `pop` jump over empty
//! milliseconds 64 at a time instead of visiting each one. Jumping keeps the order: every far
//! event lies at `now + HORIZON` or later, so none falls before the next occupied bucket, and the
//! far heap is migrated after every move of `now`, before the next push.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Width of the wheel in milliseconds (a power of two, a multiple of 64).
const HORIZON_MS: u64 = 1 << 16;
const BUCKETS: usize = HORIZON_MS as usize;
const WORDS: usize = BUCKETS / 64;
/// No node: the end of a list, or an empty bucket.
const NIL: u32 = u32::MAX;

pub struct Wheel<T> {
    now_ms: u64,
    /// First and last node of each bucket's list (`NIL` when empty), side by side: a push or a
    /// pop reads and writes both ends of one bucket, so they share a cache line.
    ends: Vec<Ends>,
    /// Bit `b % 64` of word `b / 64` is set when bucket `b` is not empty.
    occupied: Vec<u64>,
    nodes: Vec<Node<T>>,
    /// The first free node (`NIL` when none), linked through `next`: last freed first, as its
    /// memory is the most likely to be in cache.
    free: u32,
    /// Events at `now_ms + HORIZON_MS` or later: `(time, seq, item)`.
    far: BinaryHeap<Reverse<(u64, u64, FarItem<T>)>>,
    seq: u64,
    /// Events in the buckets (not in the far heap).
    near: usize,
}

#[derive(Clone, Copy)]
struct Ends {
    head: u32,
    tail: u32,
}

const EMPTY: Ends = Ends {
    head: NIL,
    tail: NIL,
};

struct Node<T> {
    next: u32,
    item: Option<T>,
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
            ends: vec![EMPTY; BUCKETS],
            occupied: vec![0; WORDS],
            nodes: Vec::new(),
            free: NIL,
            far: BinaryHeap::new(),
            seq: 0,
            near: 0,
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.near == 0 && self.far.is_empty()
    }

    /// Queues `item` at `at_ms`, which is not before the last popped time.
    pub fn push(&mut self, at_ms: u64, item: T) {
        // The simulation never schedules into the past: every delay is >= 0.
        assert!(
            at_ms >= self.now_ms,
            "event at {at_ms} ms scheduled before now ({} ms)",
            self.now_ms
        );
        if at_ms < self.now_ms + HORIZON_MS {
            self.append(at_ms, item);
        } else {
            self.seq += 1;
            self.far.push(Reverse((at_ms, self.seq, FarItem(item))));
        }
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        // Bounded: each pass either returns, moves time forward to the next occupied bucket
        // (there is one when `near > 0`), or jumps to the far heap's minimum, which migration
        // then puts into a bucket; with neither, the wheel is empty and the loop ends.
        loop {
            let b = bucket(self.now_ms);
            let head = self.ends[b].head;
            if head != NIL {
                let node = &mut self.nodes[head as usize];
                let item = node.item.take().expect("a listed node holds an event");
                let next = node.next;
                node.next = self.free;
                self.ends[b].head = next;
                if next == NIL {
                    self.ends[b].tail = NIL;
                    self.occupied[b / 64] &= !(1 << (b % 64));
                }
                self.free = head;
                self.near -= 1;
                return Some((self.now_ms, item));
            }
            if self.near > 0 {
                self.now_ms += self.distance_to_occupied(b);
            } else {
                let Reverse((at, _, _)) = self.far.peek()?;
                self.now_ms = *at;
            }
            self.migrate();
        }
    }

    pub fn clear(&mut self) {
        self.ends.fill(EMPTY);
        self.occupied.fill(0);
        self.nodes.clear();
        self.free = NIL;
        self.far.clear();
        self.near = 0;
    }

    /// Appends `item` to the list of its bucket.
    fn append(&mut self, at_ms: u64, item: T) {
        let node = Node {
            next: NIL,
            item: Some(item),
        };
        let idx = match self.free {
            NIL => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1)
                    .ok()
                    .filter(|&i| i != NIL)
                    .expect("fewer than 2^32 - 1 pending events")
            }
            i => {
                self.free = self.nodes[i as usize].next;
                self.nodes[i as usize] = node;
                i
            }
        };
        let b = bucket(at_ms);
        let ends = &mut self.ends[b];
        match ends.tail {
            NIL => {
                ends.head = idx;
                self.occupied[b / 64] |= 1 << (b % 64);
            }
            tail => self.nodes[tail as usize].next = idx,
        }
        ends.tail = idx;
        self.near += 1;
    }

    /// How many milliseconds after `now` the next occupied bucket comes, `now`'s own bucket
    /// `from` being empty. Only called with an occupied bucket somewhere.
    fn distance_to_occupied(&self, from: usize) -> u64 {
        let start = (from + 1) % BUCKETS;
        let mut word = start / 64;
        // The first word without the buckets before `start`.
        let mut bits = self.occupied[word] & (!0u64 << (start % 64));
        // Bounded: at most every word once, and once more the first (wrapped around).
        for _ in 0..=WORDS {
            if bits != 0 {
                let b = word * 64 + bits.trailing_zeros() as usize;
                return ((b + BUCKETS - from) % BUCKETS) as u64;
            }
            word = (word + 1) % WORDS;
            bits = self.occupied[word];
        }
        unreachable!("near > 0 means some bucket is occupied")
    }

    /// Moves far events that came within the horizon into their buckets, in `(time, seq)` order.
    fn migrate(&mut self) {
        while let Some(Reverse((at, _, _))) = self.far.peek() {
            if *at >= self.now_ms + HORIZON_MS {
                break;
            }
            let Reverse((at, _, FarItem(item))) = self.far.pop().expect("peeked");
            self.append(at, item);
        }
    }
}

fn bucket(at_ms: u64) -> usize {
    (at_ms % HORIZON_MS) as usize
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

    /// Gaps of more than a bitmap word and of more than the horizon, and a cleared wheel that
    /// is used again, keep the order.
    #[test]
    fn jumps_over_empty_time_and_starts_anew_after_clear() {
        let mut wheel = Wheel::new();
        let times = [
            5,
            5,
            64,
            65,
            1_000,
            HORIZON_MS - 1,
            HORIZON_MS + 3,
            10 * HORIZON_MS,
        ];
        for (i, &t) in times.iter().enumerate() {
            wheel.push(t, i);
        }
        let popped: Vec<(u64, usize)> = std::iter::from_fn(|| wheel.pop()).collect();
        let expected: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        assert_eq!(popped, expected);
        wheel.push(10 * HORIZON_MS + 7, 1);
        wheel.clear();
        assert!(wheel.is_empty());
        assert_eq!(wheel.pop(), None);
        wheel.push(10 * HORIZON_MS + 9, 2);
        assert_eq!(wheel.pop(), Some((10 * HORIZON_MS + 9, 2)));
    }
}
