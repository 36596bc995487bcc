//! Blocks read back and forth: in ascending order on even passes and in descending order on odd
//! ones, so that each pass starts on the blocks the last one read last, the ones the core's caches
//! still hold. Read forward every pass, data a little larger than a cache misses on every line of
//! it (a cyclic read defeats least-recently-used replacement: the line evicted is always the one
//! wanted next); read back and forth, it misses only on what the cache cannot hold. The parallel
//! kernel's threads claim the blocks of their runs in this order, and the all-threads probe of the
//! limit (the orchestrator's `bandwidth::pool_pass`) reads its chunks in it: one function, so that
//! the limit reads as the kernel does.

use std::ops::Range;

/// The block at `position` of the run `run` in pass `pass`'s order: `position` itself in even
/// passes, its mirror in the run in odd ones.
pub fn block_at(pass: u64, run: Range<usize>, position: usize) -> usize {
    if pass % 2 == 1 {
        run.start + run.end - 1 - position
    } else {
        position
    }
}

/// The blocks 0..`blocks` in pass `pass`'s order.
pub fn order(blocks: usize, pass: u64) -> impl Iterator<Item = usize> {
    (0..blocks).map(move |position| block_at(pass, 0..blocks, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_passes_go_up_and_odd_ones_down_within_their_run() {
        assert_eq!(order(4, 0).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(order(4, 7).collect::<Vec<_>>(), [3, 2, 1, 0]);
        assert_eq!(order(1, 1).collect::<Vec<_>>(), [0]);
        assert_eq!((5..9).map(|position| block_at(1, 5..9, position)).collect::<Vec<_>>(), [8, 7, 6, 5]);
        assert_eq!((5..9).map(|position| block_at(2, 5..9, position)).collect::<Vec<_>>(), [5, 6, 7, 8]);
    }
}
