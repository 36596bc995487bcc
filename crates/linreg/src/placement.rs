//! Where a buffer of f64 values lies in memory: always from a cache line, and from about a third
//! of the L2 up, on whole huge pages. Shared by the datasets the kernels read and the probe that
//! measures their limit, so that both read memory laid out alike.
//!
//! Why whole huge pages: an L2 is indexed by physical address and its sets span more than a 4 KiB
//! page (2 MiB and 16 ways: 2 048 sets of 64 bytes, 128 KiB, so 32 "colours" of page), and which
//! physical pages the kernel hands a buffer decides how many of its lines land on each set. A pass
//! that puts more lines on a set than it has ways misses on every one of them, every pass (a cyclic
//! read defeats LRU), and goes to the L3 for them. With 4 KiB pages that is a draw made anew by
//! every process: pages placed at random put, on average, 0.6% of a buffer's lines on over-full
//! sets at half the L2's size, 3% at 0.6 of it and 21% at 0.8 of it (16 ways; 4% at half the size
//! with 8 ways), and nothing below a third. On whole 2 MiB pages the buffer is physically contiguous
//! and fills the sets evenly. Measured on an Emerald Rapids (family 6 model 207, 2 MiB 16-way L2,
//! 2-vCPU KVM guest, 2026-12-05; docs/limits.md has the tables): `linreg --kernel simd` at 10^5
//! points (1.6 MB, 0.78 of the L2) took 0.16–0.25 ns a point an epoch in its fastest fit on 4 KiB
//! pages and 0.12–0.18 on whole huge pages, process against process; level at 2·10^4 and 5·10^4
//! points and beyond the L2.
//!
//! The price is memory: a buffer on whole pages is resident in whole pages, up to one huge page
//! (2 MiB) more than its values (and, for a dataset, the padding that puts y half the L2's set span
//! from x: up to one span, 128 KiB there), only between a third of the L2 and a few huge pages'
//! size. And just past the L2 one thread loses a little: evenly filled, every set is over-full at
//! once, where pages at random leave some sets under-full that keep their lines (up to 8% at
//! 1.25–1.6 × the L2 on the Emerald Rapids, 6% at 1.4 ×, while two threads on the same buffer gain
//! 1.01–1.17× at 1.25 × and 1.5–2.0× at 2 ×).
//! `linreg --placement heap` ([`keep_on_heap`]) and `make bench-placement` measure both on any CPU.
//!
//! Two columns in one buffer on whole pages (a dataset's x and y) lie half the L2's set span apart,
//! so that any thread's run of points fills the sets as evenly as can be ([`second_column_start`]).

use std::path::Path;
use std::ptr::NonNull;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::caches::{cpu0_l2_bytes, l2_set_span_bytes, small_file, CPU0_CACHES};

/// f64 values in a 64-byte cache line.
pub const LINE_VALUES: usize = 8;
const LINE_BYTES: usize = 64;
const VALUE_BYTES: usize = std::mem::size_of::<f64>();

/// Below this size nothing is looked up and no buffer goes on whole pages: the L1 data caches of the
/// x86-64 cores this has met are indexed within a 4 KiB page (48 KiB, 12 ways), and a third of the
/// smallest L2 among them (512 KiB on a Zen 1–3, 1 MiB on a Zen 5, 2 MiB on an Emerald Rapids) is
/// larger.
const SMALLEST_CONSIDERED_BYTES: usize = 64 << 10;

/// The size of a transparent huge page, where Linux has them.
const HUGE_PAGE_SIZE_FILE: &str = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
/// Whether a mapping advised MADV_HUGEPAGE gets them: `always [madvise] never`, the mode in brackets.
const HUGE_PAGE_MODE_FILE: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

/// `len` f64 values, zero at first, starting on a cache line (on a huge page when on whole pages).
pub struct Buffer {
    storage: Storage,
    len: usize,
}

enum Storage {
    /// A heap allocation, the values from index `start` (its first cache line).
    Heap { values: Vec<f64>, start: usize },
    /// An anonymous mapping of whole huge pages, `bytes` long, that the buffer owns.
    Mapped { base: NonNull<f64>, bytes: usize },
}

// SAFETY: a mapped buffer owns its mapping alone, as a Vec owns its allocation; shared references
// only read it and the one mutable reference comes through `&mut self`.
unsafe impl Send for Buffer {}
// SAFETY: as above.
unsafe impl Sync for Buffer {}

impl Buffer {
    /// A buffer of `len` zeros, placed as the machine calls for ([`WholePages`]); aborts when the
    /// memory cannot be had, as a Vec's allocation does.
    pub fn zeroed(len: usize) -> Buffer {
        Buffer::try_zeroed(len).unwrap_or_else(|| {
            let layout = std::alloc::Layout::array::<f64>(len.saturating_add(LINE_VALUES)).unwrap_or(std::alloc::Layout::new::<f64>());
            std::alloc::handle_alloc_error(layout)
        })
    }

    /// As [`Buffer::zeroed`], None when the memory cannot be had.
    pub fn try_zeroed(len: usize) -> Option<Buffer> {
        let bytes = len.checked_mul(VALUE_BYTES)?;
        on_whole_pages(bytes, whole_pages).and_then(|p| Buffer::mapped(len, p.page_bytes)).or_else(|| Buffer::heap(len))
    }

    /// On the heap, from its first cache line.
    fn heap(len: usize) -> Option<Buffer> {
        let total = len.checked_add(LINE_VALUES - 1)?;
        let layout = std::alloc::Layout::array::<f64>(total).ok()?;
        // SAFETY: the layout's size is not zero (total ≥ 7). Zeroed memory from the allocator (a
        // large block comes straight from the kernel, untouched until written) holds valid f64
        // zeros, and a Vec may own it: the global allocator, f64's alignment, capacity = length.
        let values = unsafe {
            let pointer = std::alloc::alloc_zeroed(layout).cast::<f64>();
            if pointer.is_null() {
                return None;
            }
            Vec::from_raw_parts(pointer, total, total)
        };
        // align_offset may answer usize::MAX where it cannot tell; the values then start where they lie.
        let start = Some(values.as_ptr().align_offset(LINE_BYTES)).filter(|&s| s < LINE_VALUES).unwrap_or(0);
        Some(Buffer { storage: Storage::Heap { values, start }, len })
    }

    /// On whole pages of `page_bytes` (a power of two, a multiple of the base page), advised to be
    /// huge; None where the mapping fails.
    #[cfg(target_os = "linux")]
    fn mapped(len: usize, page_bytes: usize) -> Option<Buffer> {
        let bytes = len.checked_mul(VALUE_BYTES)?.max(1).checked_next_multiple_of(page_bytes)?;
        let reserved = bytes.checked_add(page_bytes)?;
        let (protection, flags) = (libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS);
        // SAFETY: a new private anonymous mapping that nothing else refers to.
        let raw = unsafe { libc::mmap(std::ptr::null_mut(), reserved, protection, flags, -1, 0) };
        if raw == libc::MAP_FAILED {
            return None;
        }
        let head = (raw as usize).next_multiple_of(page_bytes) - raw as usize;
        let tail = reserved - head - bytes;
        let base = raw.cast::<u8>().wrapping_add(head);
        // SAFETY: the two ranges returned lie inside the mapping just made, on base-page
        // boundaries (the mapping's start is one and `page_bytes` a multiple of one), and outside
        // the pages kept. MADV_HUGEPAGE changes how the kept pages are backed, never their
        // contents; where THP is off it fails harmlessly.
        unsafe {
            if head > 0 {
                libc::munmap(raw, head);
            }
            if tail > 0 {
                libc::munmap(base.wrapping_add(bytes).cast(), tail);
            }
            libc::madvise(base.cast(), bytes, libc::MADV_HUGEPAGE);
        }
        let base = NonNull::new(base.cast::<f64>())?;
        Some(Buffer { storage: Storage::Mapped { base, bytes }, len })
    }

    #[cfg(not(target_os = "linux"))]
    fn mapped(_len: usize, _page_bytes: usize) -> Option<Buffer> {
        None
    }

    pub fn values(&self) -> &[f64] {
        match &self.storage {
            Storage::Heap { values, start } => &values[*start..*start + self.len],
            // SAFETY: the mapping holds `bytes` ≥ 8·len bytes, zero-filled by the kernel or since
            // written as f64, and lives as long as `self`.
            Storage::Mapped { base, .. } => unsafe { std::slice::from_raw_parts(base.as_ptr(), self.len) },
        }
    }

    pub fn values_mut(&mut self) -> &mut [f64] {
        match &mut self.storage {
            Storage::Heap { values, start } => &mut values[*start..*start + self.len],
            // SAFETY: as in `values`, and `&mut self` makes this the only reference.
            Storage::Mapped { base, .. } => unsafe { std::slice::from_raw_parts_mut(base.as_ptr(), self.len) },
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the buffer lies on whole (huge) pages of its own rather than on the heap.
    pub fn on_whole_pages(&self) -> bool {
        self.mapping().is_some()
    }

    /// Where a buffer on whole pages lies: its mapping's first byte and length (whole pages), for
    /// a look at how Linux backs it (the orchestrator's probe reads its huge pages from smaps);
    /// None on the heap.
    pub fn mapping(&self) -> Option<(usize, usize)> {
        match self.storage {
            Storage::Mapped { base, bytes } => Some((base.as_ptr() as usize, bytes)),
            Storage::Heap { .. } => None,
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Storage::Mapped { base, bytes } = self.storage {
            // SAFETY: the mapping made in `mapped`, unmapped once, here.
            unsafe { libc::munmap(base.as_ptr().cast(), bytes) };
        }
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffer").field("len", &self.len).field("on_whole_pages", &self.on_whole_pages()).finish()
    }
}

/// From what size a buffer goes on whole huge pages of what size, on this machine (the
/// orchestrator keeps it in environment.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WholePages {
    pub page_bytes: usize,
    pub from_bytes: usize,
    /// The L2's set span (its sets × its line: bytes after which the set index comes round
    /// again), where sysfs says it and it fits in a page: the second of two columns starts half
    /// of it after the first ([`second_column_start`]). None in runs made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_span_bytes: Option<usize>,
}

impl WholePages {
    /// From a third of the L2 (nothing overfills a set below it, see the module's doc), or from
    /// one huge page where that is smaller or the L2 is not known: a buffer of several huge pages
    /// is better off on whole ones anyway (fewer faults and TLB misses) and rounding it up costs
    /// little.
    pub fn new(page_bytes: usize, l2_bytes: Option<u64>) -> WholePages {
        let third = l2_bytes.and_then(|b| usize::try_from(b / 3).ok()).unwrap_or(usize::MAX);
        WholePages { page_bytes, from_bytes: third.min(page_bytes).max(SMALLEST_CONSIDERED_BYTES), set_span_bytes: None }
    }

    /// With the L2's set span, kept where it can be used: a power of two of whole cache lines,
    /// within one page (a page is contiguous in physical memory, which indexes the sets).
    pub fn with_set_span(self, span_bytes: Option<u64>) -> WholePages {
        let usable = |&span: &usize| span.is_power_of_two() && span >= 2 * LINE_BYTES && span <= self.page_bytes;
        WholePages { set_span_bytes: span_bytes.and_then(|b| usize::try_from(b).ok()).filter(usable), ..self }
    }

    pub fn for_bytes(&self, bytes: usize) -> bool {
        bytes >= self.from_bytes
    }
}

/// The whole pages a buffer of `bytes` goes on, if any, by the machine's [`WholePages`] from
/// `machine`, which is not asked below [`SMALLEST_CONSIDERED_BYTES`]: the seed's 5 points must not
/// pay for sysfs at start-up (commit c8c8150 asked for every buffer: `linreg`'s load of the seed
/// data took 101 µs under the orchestrator).
pub(crate) fn on_whole_pages(bytes: usize, machine: impl FnOnce() -> Option<WholePages>) -> Option<WholePages> {
    if bytes < SMALLEST_CONSIDERED_BYTES {
        return None;
    }
    machine().filter(|p| p.for_bytes(bytes))
}

/// This process's [`WholePages`]: the machine's, or None once [`keep_on_heap`] has been called.
static WHOLE_PAGES: OnceLock<Option<WholePages>> = OnceLock::new();

/// Puts every buffer this process makes on the heap, on the pages the allocator and the kernel hand
/// it (4 KiB ones where transparent huge pages are `madvise`; under `always` the kernel gives a
/// large allocation huge pages where it is aligned to them), as before the placement existed: for
/// measuring, on the CPU at hand, what the placement is worth (`linreg --placement heap`,
/// `make bench-placement`). Called before the
/// first buffer that could go on whole pages; false when too late (the machine's choice already
/// made and not the heap), so the caller cannot measure one layout believing it is the other.
pub fn keep_on_heap() -> bool {
    keep_on_heap_in(&WHOLE_PAGES)
}

fn keep_on_heap_in(choice: &OnceLock<Option<WholePages>>) -> bool {
    settle(choice, None)
}

/// Whether a dataset's y goes right after x on whole pages too: false unless
/// [`keep_columns_adjacent`] said so before the first dataset on whole pages was laid out.
static COLUMNS_ADJACENT: OnceLock<bool> = OnceLock::new();

/// Lays every dataset this process puts on whole pages as before [`second_column_start`] moved
/// its y half the L2's set span from x: y on the line after x. For measuring, on the CPU at hand,
/// what the move is worth (`linreg --placement adjacent`, `make bench-placement`). Called before
/// the first such dataset; false when too late, as [`keep_on_heap`].
pub fn keep_columns_adjacent() -> bool {
    settle(&COLUMNS_ADJACENT, true)
}

/// `cell` set to `value` unless it was set already: whether it holds `value` now.
fn settle<T: PartialEq + Copy>(cell: &OnceLock<T>, value: T) -> bool {
    *cell.get_or_init(|| value) == value
}

/// This machine's [`WholePages`], read from sysfs once, the first time a buffer is large enough to
/// ask; None where Linux offers no transparent huge pages, or has them off (`never`: a mapping of
/// whole pages would lie on 4 KiB ones all the same, and the run must not say otherwise), or where
/// the process keeps its buffers on the heap ([`keep_on_heap`]).
pub fn whole_pages() -> Option<WholePages> {
    *WHOLE_PAGES.get_or_init(|| {
        if !advice_is_taken(&small_file(Path::new(HUGE_PAGE_MODE_FILE))?) {
            return None;
        }
        let text = small_file(Path::new(HUGE_PAGE_SIZE_FILE))?;
        let page_bytes = text.parse::<usize>().ok().filter(|b| b.is_power_of_two() && *b >= 4096)?;
        let caches = Path::new(CPU0_CACHES);
        Some(WholePages::new(page_bytes, cpu0_l2_bytes()).with_set_span(l2_set_span_bytes(caches)))
    })
}

/// Where the second of two columns of `n` values each (x and y) starts in one buffer that holds
/// both, in values from the first's start: on the first cache line after the first column, or,
/// where the buffer goes on whole pages and the L2's set span is known ([`WholePages`]), on the
/// first line from there that lies half a span from the first column's start.
///
/// Why half a span: a thread that reads a run of points reads as many lines of x as of y, and
/// each run, x's and y's, fills the L2's sets evenly but for the sets its last partial round
/// of the span covers once more. Where those extra sets of x's run and of y's run are the
/// same, they take two lines more than the rest, and once a run of points nears the L2 they are
/// over-full while others have ways to spare: a cyclic read misses on every line of an over-full
/// set, every pass (see the module's doc). Half a span apart, the two extra regions overlap only
/// as far as they must (where each covers more than half the span), for every run of points at
/// once: x[i] and y[i] lie half a span apart for every i, so the extra regions of any run's x and
/// y do too. Right after x, y[i] lay n·8 bytes (to a line) after x[i], a distance whose place in
/// the span depends on n: at 2.45·10^5 points on two threads, 43% of each thread's sets held 16
/// lines of its 0.94 of a 16-way L2, none half a span apart. Measured on an Emerald Rapids (family 6 model 207, 2 MiB
/// 16-way L2, 128 KiB span; `linreg --kernel parallel --threads 2` processes, 21 alternating
/// rounds, median ratio): 0.917× the time at 2.45·10^5 points, 0.96× at 2.5·10^5, 0.99× at
/// 2.55 and 2.6·10^5 (where the layout right after x happened to overlap as little as can be),
/// level at 10^5 and 10^6. One thread's whole x and y are already as even either way. The price:
/// up to one span (128 KiB there) more of the buffer, resident as its huge pages are.
pub fn second_column_start(n: usize) -> usize {
    second_column_start_for(n, whole_pages)
}

/// As [`second_column_start`], on the machine `machine` describes.
fn second_column_start_for(n: usize, machine: impl FnOnce() -> Option<WholePages>) -> usize {
    // Decided on the bytes of the buffer with y right after x, the least it can be, so that a
    // buffer that goes on whole pages at that size always gets the shift (it only grows with it).
    let bytes = n.next_multiple_of(LINE_VALUES).saturating_add(n).saturating_mul(VALUE_BYTES);
    let apart = || !*COLUMNS_ADJACENT.get_or_init(|| false);
    second_column_start_on(n, on_whole_pages(bytes, machine).filter(|_| apart()))
}

fn second_column_start_on(n: usize, pages: Option<WholePages>) -> usize {
    let after = n.next_multiple_of(LINE_VALUES);
    match pages.and_then(|p| p.set_span_bytes) {
        Some(span_bytes) => {
            let span = span_bytes / VALUE_BYTES;
            after + (span / 2 + span - after % span) % span
        }
        None => after,
    }
}

/// Whether the transparent huge pages mode (`always [madvise] never`) backs an advised mapping.
fn advice_is_taken(mode: &str) -> bool {
    mode.contains("[always]") || mode.contains("[madvise]")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUGE: usize = 2 << 20;

    #[test]
    fn whole_pages_from_a_third_of_the_l2_never_above_one_page_nor_below_the_l1s() {
        assert_eq!(WholePages::new(HUGE, Some(2 << 20)).from_bytes, (2 << 20) / 3);
        assert_eq!(WholePages::new(HUGE, Some(512 << 10)).from_bytes, (512 << 10) / 3);
        assert_eq!(WholePages::new(HUGE, Some(16 << 20)).from_bytes, HUGE);
        assert_eq!(WholePages::new(HUGE, None).from_bytes, HUGE);
        assert_eq!(WholePages::new(HUGE, Some(48 << 10)).from_bytes, SMALLEST_CONSIDERED_BYTES);
        let emerald_rapids = WholePages::new(HUGE, Some(2 << 20));
        assert!(!emerald_rapids.for_bytes(40_000 * 16) && emerald_rapids.for_bytes(50_000 * 16));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_buffer_says_where_its_mapping_lies_and_a_heap_one_none() {
        let buffer = Buffer::mapped(3 * HUGE / VALUE_BYTES, HUGE).unwrap();
        assert_eq!(buffer.mapping(), Some((buffer.values().as_ptr() as usize, 3 * HUGE)));
        assert_eq!(Buffer::heap(1000).unwrap().mapping(), None);
    }

    #[test]
    fn the_heap_is_kept_only_before_the_machine_has_placed_a_buffer() {
        let fresh = OnceLock::new();
        assert!(keep_on_heap_in(&fresh) && keep_on_heap_in(&fresh), "asked twice, the heap both times");
        assert_eq!(fresh.get(), Some(&None));
        let placed = OnceLock::from(Some(WholePages::new(HUGE, Some(2 << 20))));
        assert!(!keep_on_heap_in(&placed), "too late: buffers may already lie on whole pages");
        assert!(keep_on_heap_in(&OnceLock::from(None)), "a machine without huge pages keeps the heap anyway");
    }

    #[test]
    fn adjacent_columns_are_kept_only_before_a_dataset_was_laid_out_apart() {
        let fresh = OnceLock::new();
        assert!(settle(&fresh, true) && settle(&fresh, true), "asked twice, adjacent both times");
        let laid_out = OnceLock::from(false);
        assert!(!settle(&laid_out, true), "too late: a dataset may already lie apart");
    }

    #[test]
    fn huge_pages_count_only_where_the_mode_takes_the_advice() {
        assert!(advice_is_taken("always [madvise] never"));
        assert!(advice_is_taken("[always] madvise never"));
        assert!(!advice_is_taken("always madvise [never]"));
        assert!(!advice_is_taken(""));
    }

    #[test]
    fn the_machine_is_asked_only_for_buffers_that_could_go_on_whole_pages() {
        let never = || -> Option<WholePages> { panic!("sysfs read for a small buffer") };
        assert_eq!(on_whole_pages(0, never), None);
        assert_eq!(on_whole_pages(SMALLEST_CONSIDERED_BYTES - 1, never), None);
        let emerald_rapids = || Some(WholePages::new(HUGE, Some(2 << 20)));
        assert_eq!(on_whole_pages(SMALLEST_CONSIDERED_BYTES, emerald_rapids), None, "below a third of the L2");
        assert_eq!(on_whole_pages(1 << 20, emerald_rapids), emerald_rapids());
        assert_eq!(on_whole_pages(1 << 30, || None), None, "no THP");
    }

    #[test]
    fn heap_buffers_are_zero_writable_and_start_on_a_line() {
        for len in [0, 1, 7, 8, 9, 1000, 12_345] {
            let mut buffer = Buffer::heap(len).unwrap();
            assert!(!buffer.on_whole_pages());
            assert_eq!(buffer.len(), len);
            assert!(buffer.values().iter().all(|v| *v == 0.0));
            assert_eq!(buffer.values().as_ptr() as usize % LINE_BYTES, 0, "len {len}");
            buffer.values_mut().iter_mut().enumerate().for_each(|(i, v)| *v = i as f64);
            assert!(buffer.values().iter().enumerate().all(|(i, v)| *v == i as f64));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn mapped_buffers_start_on_a_whole_page_and_hold_what_is_written() {
        for len in [1, 100_000, HUGE / VALUE_BYTES, HUGE / VALUE_BYTES + 1] {
            let mut buffer = Buffer::mapped(len, HUGE).unwrap();
            assert!(buffer.on_whole_pages());
            assert_eq!(buffer.values().as_ptr() as usize % HUGE, 0, "len {len}");
            assert_eq!(buffer.len(), len);
            assert!(buffer.values().iter().all(|v| *v == 0.0));
            buffer.values_mut().iter_mut().enumerate().for_each(|(i, v)| *v = i as f64);
            let moved = std::thread::spawn(move || buffer.values().iter().enumerate().all(|(i, v)| *v == i as f64));
            assert!(moved.join().unwrap(), "len {len}");
        }
    }

    #[test]
    fn a_set_span_is_kept_only_where_it_can_be_used() {
        let pages = WholePages::new(HUGE, Some(2 << 20));
        assert_eq!(pages.set_span_bytes, None);
        assert_eq!(pages.with_set_span(Some(128 << 10)).set_span_bytes, Some(128 << 10));
        for unusable in [None, Some(0), Some(64), Some(96 << 10), Some(4 << 20)] {
            assert_eq!(pages.with_set_span(unusable).set_span_bytes, None, "{unusable:?}");
        }
    }

    #[test]
    fn a_run_without_a_set_span_reads_back_as_none() {
        let old: WholePages = serde_json::from_str(r#"{"page_bytes":2097152,"from_bytes":699050}"#).unwrap();
        assert_eq!(old, WholePages::new(HUGE, Some(2 << 20)));
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("set_span"), "{json}");
    }

    /// Lines a set gets from thread's run of points `run` of x (from value 0) and of y (from
    /// `y_start`), `sets` sets of a line each.
    fn lines_a_set(run: std::ops::Range<usize>, y_start: usize, sets: usize) -> Vec<usize> {
        let mut counts = vec![0; sets];
        for line in (run.start / LINE_VALUES)..run.end.div_ceil(LINE_VALUES) {
            counts[line % sets] += 1;
            counts[(y_start / LINE_VALUES + line) % sets] += 1;
        }
        counts
    }

    #[test]
    fn every_run_of_points_fills_the_l2_sets_as_evenly_as_can_be_half_a_span_apart() {
        let mut uneven_right_after = 0;
        // The Emerald Rapids' L2 (2 MiB, 16 ways: 128 KiB) near each thread's L2 on two threads,
        // and a Zen's (512 KiB, 8 ways: 64 KiB) near its own.
        let machines = [
            (2 << 20, 128 << 10, [100_000, 230_000, 245_000, 250_000, 255_000, 260_000, 1_000_000, 1_000_003]),
            (512 << 10, 64 << 10, [20_000, 50_000, 57_000, 60_000, 61_000, 63_000, 65_000, 250_001]),
        ];
        for (n, span, l2) in machines.iter().flat_map(|&(l2, span, sizes)| sizes.map(|n| (n, span, l2))) {
            let sets = span / LINE_BYTES;
            let placed = WholePages::new(HUGE, Some(l2)).with_set_span(Some(span as u64));
            let start = second_column_start_on(n, Some(placed));
            assert_eq!((start % LINE_VALUES, start * VALUE_BYTES % span), (0, span / 2), "{n} points");
            assert!(start >= n && start < n.next_multiple_of(LINE_VALUES) + span / VALUE_BYTES, "{n} points: {start}");
            for threads in 1..=4 {
                // Runs of whole vector blocks, as the parallel kernel's and the probe's threads read.
                let bounds: Vec<usize> = (0..=threads).map(|t| (n * t / threads).next_multiple_of(32).min(n)).collect();
                for run in bounds.windows(2).map(|w| w[0]..w[1]) {
                    let spread = |y_start| {
                        let counts = lines_a_set(run.clone(), y_start, sets);
                        counts.iter().max().unwrap() - counts.iter().min().unwrap()
                    };
                    assert!(spread(start) <= 1, "{n} points, {threads} threads, run {run:?}: {}", spread(start));
                    uneven_right_after += usize::from(spread(n.next_multiple_of(LINE_VALUES)) > 1);
                }
            }
        }
        assert!(uneven_right_after > 0, "the layout right after x must be uneven somewhere, or this shows nothing");
        assert_eq!(second_column_start_on(250_000, None), 250_000, "on the heap, right after x");
        assert_eq!(second_column_start_on(1001, Some(WholePages::new(HUGE, Some(2 << 20)))), 1008, "no span known: the next line");
    }

    #[test]
    fn y_is_shifted_exactly_where_the_buffer_holding_both_goes_on_whole_pages() {
        let placed = WholePages::new(HUGE, Some(2 << 20)).with_set_span(Some(128 << 10));
        // Around the third of the L2, where the decision changes: a buffer of 16·n bytes and one
        // of up to 7 values more fall on either side of it for a few n.
        let first = placed.from_bytes / (2 * VALUE_BYTES);
        for n in first - 16..first + 16 {
            let start = second_column_start_for(n, || Some(placed));
            let buffer_placed = placed.for_bytes((start + n) * VALUE_BYTES);
            let shifted = start != n.next_multiple_of(LINE_VALUES);
            assert_eq!(shifted, buffer_placed, "{n} points: y at {start}");
        }
    }

    #[test]
    fn any_buffer_asked_for_is_zero_on_a_line_whatever_the_machine() {
        for len in [3, 200_000, 1 << 20] {
            let buffer = Buffer::zeroed(len);
            assert_eq!((buffer.len(), buffer.values().as_ptr() as usize % LINE_BYTES), (len, 0));
            assert!(buffer.values().iter().all(|v| *v == 0.0));
            let placed = whole_pages().is_some_and(|p| p.for_bytes(len * VALUE_BYTES));
            assert_eq!(buffer.on_whole_pages(), placed, "len {len}");
        }
    }
}
