//! A first-in first-out queue that keeps its first few entries inline.
//!
//! Why: the simulator holds one agent per device (hundreds of thousands in a run), and each input
//! an agent is handed produces one or two outputs that the driver takes at once. With a heap
//! buffer per queue, every input touched the agent, then its cold buffers; inline, the outputs
//! sit in the agent's own cache lines and an agent allocates nothing unless a burst (a driver
//! that lets many timers fall due at once) spills over.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub(super) struct Fifo<T: Copy, const N: usize> {
    inline: [Option<T>; N],
    /// Bytes, not words: the ring holds a few entries (`N` < 256, checked in `new`).
    head: u8,
    len: u8,
    /// Entries pushed while the inline ring was full, or after such an entry (so that order
    /// holds): they come out after every inline one. Boxed: a pointer in the agent, not a
    /// queue's four words, for what is almost never used.
    #[allow(clippy::box_collection)]
    spill: Option<Box<VecDeque<T>>>,
}

impl<T: Copy, const N: usize> Fifo<T, N> {
    pub(super) fn new() -> Self {
        const { assert!(N > 0 && N < 256, "an inline ring of 1 to 255 entries") };
        Self {
            inline: [None; N],
            head: 0,
            len: 0,
            spill: None,
        }
    }

    pub(super) fn push(&mut self, item: T) {
        if usize::from(self.len) == N || self.spill.as_ref().is_some_and(|q| !q.is_empty()) {
            self.spill.get_or_insert_default().push_back(item);
            return;
        }
        self.inline[(usize::from(self.head) + usize::from(self.len)) % N] = Some(item);
        self.len += 1;
    }

    pub(super) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return self.spill.as_mut().and_then(|q| q.pop_front());
        }
        let item = self.inline[usize::from(self.head)].take();
        // In range: `head < N < 256`.
        self.head = ((usize::from(self.head) + 1) % N) as u8;
        self.len -= 1;
        item
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.len) + self.spill.as_ref().map_or(0, |q| q.len())
    }

    /// Keeps only the entries `keep` accepts, in order.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        if self.is_empty() {
            return;
        }
        let all: Vec<T> = std::iter::from_fn(|| self.pop())
            .filter(|t| keep(t))
            .collect();
        for t in all {
            self.push(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fifo;

    #[test]
    fn order_holds_across_the_spill() {
        let mut q: Fifo<u32, 2> = Fifo::new();
        for i in 0..5 {
            q.push(i);
        }
        assert_eq!(q.pop(), Some(0));
        q.push(5);
        q.retain(|x| *x != 3);
        let rest: Vec<u32> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, vec![1, 2, 4, 5]);
        assert_eq!(q.len(), 0);
        q.push(6);
        assert_eq!(q.pop(), Some(6));
    }
}
