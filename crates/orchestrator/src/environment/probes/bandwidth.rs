//! Read bandwidth against working-set size, on one thread and on all: the same two arrays (x and y,
//! as a dataset's columns) streamed over prefixes from below the L1 size to far beyond the largest
//! cache, so each cache level and memory show up as a plateau on the curve. The curve, not a cache
//! size the OS reports, decides where a dataset's epoch streams from: a VM may report a 260 MiB L3
//! of which it holds a changing share (on an Emerald Rapids guest 160 MB streamed between the L3's
//! speed and the memory's, depending on its history: see `limits::cache_edge`).

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use linreg::placement::{second_column_start, Buffer};
use serde::{Deserialize, Serialize};

use super::compute::{self, ComputeCeiling};
use super::harness::{time_meeting_every_pass, time_together, Spread};
use super::isa::Isa;
use super::{ProbeError, BYTES_PER_POINT};
use crate::measure::CancelToken;

/// The smallest working set probed (both arrays together): half of the smallest L1 data cache of
/// current x86 and ARM cores, so the first point of the curve is served by L1.
pub(crate) const DEFAULT_MIN_WORKING_SET_BYTES: usize = 16 << 10;

/// Sizes per doubling: enough to see each cache's edge, few enough to keep the probe short.
pub(crate) const DEFAULT_SIZES_PER_OCTAVE: u32 = 2;

/// Timed samples at each size and thread count (best, median and worst are kept), when the budget
/// allows; never fewer than [`MIN_SAMPLES`].
pub(crate) const DEFAULT_SAMPLES: usize = 7;
const MIN_SAMPLES: usize = 3;

/// The whole curve, touching the pages included, should take about this long at most: on a quiet
/// 2-vCPU VM it needs about 1.5 s with every sample; on a busy one the samples stretch (a thread
/// waits for a CPU at every barrier) and the later sizes get fewer of them instead.
pub(crate) const DEFAULT_BUDGET_SECONDS: f64 = 3.0;

/// A sample repeats passes over a small working set until it lasts about this long: long enough
/// for the clock and the skew of the threads' wake-ups from the barrier to be small beside it.
pub(crate) const DEFAULT_TARGET_SAMPLE_SECONDS: f64 = 1.5e-3;

/// The widest loop's shape (AVX-512): f64 lanes a vector, and independent vector sums, enough to
/// hide the add latency so the core could stream faster than any cache level feeds it.
const AVX512_WIDTH: usize = 8;
const AVX512_ACCUMULATORS: usize = 8;

/// Working sets are whole blocks of this many points, and each thread's chunk starts on one: the
/// widest loop's block (8 accumulators of 8 lanes), so that only the last thread ever has a tail.
const CHUNK_ALIGN_POINTS: usize = AVX512_WIDTH * AVX512_ACCUMULATORS;

/// Every thread gets at least this many blocks of [`CHUNK_ALIGN_POINTS`]; a size too small for that
/// is left out of the all-threads curve (it would time the barrier, not the memory).
const MIN_BLOCKS_PER_THREAD: usize = 4;

/// Multiplies x in the streaming sum: any value works, the loop only has to read every element.
const STREAM_SCALE: f64 = 0.5;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CurveSettings {
    pub min_working_set_bytes: usize,
    /// The largest working set, both arrays together: it must be well beyond the largest cache.
    pub max_working_set_bytes: usize,
    pub sizes_per_octave: u32,
    pub samples: usize,
    pub target_sample_seconds: f64,
    pub budget_seconds: f64,
}

impl CurveSettings {
    /// The defaults, up to `max_working_set_bytes`.
    pub(crate) fn up_to(max_working_set_bytes: usize) -> Self {
        CurveSettings {
            min_working_set_bytes: DEFAULT_MIN_WORKING_SET_BYTES,
            max_working_set_bytes,
            sizes_per_octave: DEFAULT_SIZES_PER_OCTAVE,
            samples: DEFAULT_SAMPLES,
            target_sample_seconds: DEFAULT_TARGET_SAMPLE_SECONDS,
            budget_seconds: DEFAULT_BUDGET_SECONDS,
        }
    }
}

/// The read bandwidth at one working-set size and thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandwidthAtSize {
    /// Both arrays together: `BYTES_PER_POINT` × points, as a dataset of that many points.
    pub working_set_bytes: u64,
    /// Passes over the whole working set in each timed sample.
    pub passes_per_sample: u64,
    pub samples: usize,
    pub bytes_per_second: Spread,
    /// Whether the threads met after every pass (a gather of their partial sums and a barrier),
    /// as a gradient-descent kernel's threads must once an epoch; false for one thread, for the
    /// curve, and in records written before 2026-12-04.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub meets_every_pass: bool,
    /// Whether each thread read its chunk as the parallel kernel reads its run, in blocks,
    /// ascending one pass and descending the next ([`pool_pass`]); false for one thread, and in
    /// records written before 2026-12-06.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocks_back_and_forth: bool,
}

/// Read bandwidth against working-set size, ascending, on one thread and on every thread this
/// process may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandwidthCurve {
    pub instruction_set: Isa,
    /// The thread count of `all_threads`: `linreg::default_threads` (affinity and cgroup quota
    /// included).
    pub threads: usize,
    pub single_thread: Vec<BandwidthAtSize>,
    pub all_threads: Vec<BandwidthAtSize>,
}

impl BandwidthCurve {
    /// The curve for one thread (`false`) or all threads (`true`).
    pub(crate) fn curve(&self, all_threads: bool) -> &[BandwidthAtSize] {
        if all_threads {
            &self.all_threads
        } else {
            &self.single_thread
        }
    }

    /// The best rate at the largest working set: what memory gives when nothing is cached.
    pub(crate) fn memory_bytes_per_second(&self, all_threads: bool) -> Option<f64> {
        self.curve(all_threads).last().map(|s| s.bytes_per_second.best)
    }
}

/// Working-set sizes from `min` to `max` bytes, `per_octave` a doubling, each a whole number of
/// [`CHUNK_ALIGN_POINTS`]-point blocks (the nearest); `max` (rounded the same way) is always the last.
pub(crate) fn working_set_sizes(min_bytes: usize, max_bytes: usize, per_octave: u32) -> Vec<u64> {
    let block_bytes = (CHUNK_ALIGN_POINTS * BYTES_PER_POINT) as u64;
    let round = |bytes: f64| ((bytes / block_bytes as f64).round() as u64).max(1) * block_bytes;
    let max = round(max_bytes as f64);
    let mut sizes = Vec::new();
    let step = 2f64.powf(1.0 / f64::from(per_octave.max(1)));
    let mut bytes = min_bytes.max(1) as f64;
    while round(bytes) < max {
        let size = round(bytes);
        if sizes.last() != Some(&size) {
            sizes.push(size);
        }
        bytes *= step;
    }
    sizes.push(max);
    sizes
}

/// Measures the curve: one buffer is allocated once at the largest size (pages touched before any
/// timing), and a working set of m points is x from its start and y where `linreg` puts a
/// dataset's y of m points ([`second_column_start`]: right after x, or half the L2's set span
/// from it where such a dataset lies on whole pages).
/// `cancel` stops it between two sizes.
pub(crate) fn measure_curve(settings: &CurveSettings, cancel: &CancelToken) -> Result<BandwidthCurve, ProbeError> {
    let started = Instant::now();
    let threads = linreg::default_threads().get();
    let isa = Isa::widest();
    let max_points = settings.max_working_set_bytes / BYTES_PER_POINT;
    if settings.samples == 0 {
        return Err(ProbeError::NothingToMeasure { threads, passes: settings.samples });
    }
    if max_points < CHUNK_ALIGN_POINTS {
        let min_bytes = CHUNK_ALIGN_POINTS * BYTES_PER_POINT;
        return Err(ProbeError::WorkingSetTooSmall { bytes: settings.max_working_set_bytes, min_bytes });
    }
    let sizes = working_set_sizes(settings.min_working_set_bytes, max_points * BYTES_PER_POINT, settings.sizes_per_octave);
    // Each size's x from the buffer's start and its y where `linreg` would put it for that n.
    let values = sizes.iter().map(|&size| columns_len(size as usize / BYTES_PER_POINT)).max().unwrap_or(0);
    let buffer = touched(values, threads)?;
    let buffer = buffer.values();
    let thread_counts: &[usize] = if threads == 1 { &[1] } else { &[1, threads] };
    let mut curves: Vec<Vec<BandwidthAtSize>> = vec![Vec::new(); thread_counts.len()];
    // Bytes a second expected at the next size, per thread count: sizes ascend and bandwidth only
    // falls with size, so the last size's rate makes the next size's samples at least as long as
    // the target.
    let columns = |points: usize| columns_in(buffer, points);
    let (x, y) = columns(sizes[0] as usize / BYTES_PER_POINT);
    let first_guess = calibrate(isa, x, y);
    let mut expected: Vec<f64> = thread_counts.iter().map(|&t| first_guess * t as f64).collect();
    let measurements: Vec<(u64, usize)> = sizes
        .iter()
        .flat_map(|&size| (0..thread_counts.len()).map(move |k| (size, k)))
        .filter(|&(size, k)| size as usize / BYTES_PER_POINT >= thread_counts[k] * CHUNK_ALIGN_POINTS * MIN_BLOCKS_PER_THREAD)
        .collect();
    for (done, &(size, k)) in measurements.iter().enumerate() {
        super::stop_if_cancelled(cancel)?;
        let (points, t) = (size as usize / BYTES_PER_POINT, thread_counts[k]);
        let passes = passes_for(size, expected[k], settings.target_sample_seconds);
        // This measurement's share of what is left of the budget, in samples of the expected length.
        let left = (settings.budget_seconds - started.elapsed().as_secs_f64()).max(0.0) / (measurements.len() - done) as f64;
        let samples = samples_within(left, size as f64 * passes as f64 / expected[k], settings.samples);
        let (x, y) = columns(points);
        let measured = measure_size(isa, x, y, t, passes, samples)?;
        expected[k] = measured.bytes_per_second.best;
        curves[k].push(measured);
    }
    let all_threads = curves.pop().unwrap_or_default();
    let single_thread = if threads == 1 { all_threads.clone() } else { curves.pop().unwrap_or_default() };
    Ok(BandwidthCurve { instruction_set: isa, threads, single_thread, all_threads })
}

/// The read bandwidth at one scenario point's working set, measured right before the point runs
/// (between two runs, nothing else of ours running): the curve's loop and layout over 16·n bytes
/// (n rounded down to whole blocks of [`CHUNK_ALIGN_POINTS`]), on one thread and on every
/// thread, [`DEFAULT_SAMPLES`] samples each, best, median and worst kept. The limit of a point is
/// then the machine as it was when the point ran, not as it was at the start of the run: on a
/// shared 2-vCPU VM the start-of-run curve put the same 10^7-point limit at 0.455 ns in one run and
/// 0.662 ns in another, the same day. None for a working set too small to time (below
/// [`MIN_BLOCKS_PER_THREAD`] blocks a thread).
pub(crate) fn measure_at_point(points: usize, cancel: &CancelToken) -> Result<Option<PointBandwidth>, ProbeError> {
    match PointBuffer::new(points)? {
        Some(point) => measure_on(&point, cancel),
        None => Ok(None),
    }
}

/// [`measure_at_point`] on a point's buffer made already, so that another measurement
/// (`kernel_loop`) can read the very same one.
pub(crate) fn measure_on(point: &PointBuffer, cancel: &CancelToken) -> Result<Option<PointBandwidth>, ProbeError> {
    let (x, y) = point.columns();
    let at = |t: usize| -> Result<Option<BandwidthAtSize>, ProbeError> {
        super::stop_if_cancelled(cancel)?;
        let Some(passes) = point.passes(t) else { return Ok(None) };
        if t > 1 {
            measure_meeting_every_pass(point.isa, x, y, t, passes, DEFAULT_SAMPLES).map(Some)
        } else {
            measure_size(point.isa, x, y, t, passes, DEFAULT_SAMPLES).map(Some)
        }
    };
    let Some(single_thread) = at(1)? else { return Ok(None) };
    let all_threads = if point.threads > 1 { at(point.threads)? } else { None };
    let compute = if point.threads > 1 {
        super::stop_if_cancelled(cancel)?;
        // Only a check beside the bandwidth: without it the probe still sets the limit.
        compute::measure_ceiling(compute::POINT_SAMPLES).ok()
    } else {
        None
    };
    Ok(Some(PointBandwidth {
        threads: point.threads,
        single_thread,
        all_threads,
        huge_page_share: super::huge_pages::share(&point.buffer),
        compute,
    }))
}

/// A point's working set as the probes read it: n rounded down to whole blocks of
/// [`CHUNK_ALIGN_POINTS`], x then y in one buffer placed as `linreg` places a dataset, every page
/// written ([`touched`]), and a first estimate of its bandwidth on one thread.
pub(crate) struct PointBuffer {
    threads: usize,
    isa: Isa,
    buffer: Buffer,
    points: usize,
    first_guess: f64,
}

impl PointBuffer {
    /// None for a working set too small to time (below [`MIN_BLOCKS_PER_THREAD`] blocks a thread).
    pub(crate) fn new(points: usize) -> Result<Option<PointBuffer>, ProbeError> {
        let threads = linreg::default_threads().get();
        // No allocation holds more than isize::MAX bytes; below that, the layout's arithmetic
        // (y placed up to a set span past x) cannot overflow.
        if points > MOST_POINTS {
            return Err(ProbeError::TooManyPoints { points });
        }
        let points = points / CHUNK_ALIGN_POINTS * CHUNK_ALIGN_POINTS;
        if points < CHUNK_ALIGN_POINTS * MIN_BLOCKS_PER_THREAD {
            return Ok(None);
        }
        let isa = Isa::widest();
        let buffer = touched(columns_len(points), threads)?;
        let (x, y) = columns_in(buffer.values(), points);
        let first_guess = calibrate(isa, x, y);
        Ok(Some(PointBuffer { threads, isa, buffer, points, first_guess }))
    }

    /// The instruction set of the probe's loop.
    pub(super) fn isa(&self) -> Isa {
        self.isa
    }

    /// Points in each array (n rounded down to whole blocks).
    pub(super) fn points(&self) -> usize {
        self.points
    }

    /// x and y.
    fn columns(&self) -> (&[f64], &[f64]) {
        columns_in(self.buffer.values(), self.points)
    }

    /// Passes a sample of `t` threads makes (about [`DEFAULT_TARGET_SAMPLE_SECONDS`]); None where
    /// the working set is too small to share out among them.
    pub(super) fn passes(&self, t: usize) -> Option<u64> {
        let size = (self.points * BYTES_PER_POINT) as u64;
        (self.points >= t * CHUNK_ALIGN_POINTS * MIN_BLOCKS_PER_THREAD)
            .then(|| passes_for(size, self.first_guess * t as f64, DEFAULT_TARGET_SAMPLE_SECONDS))
    }

    /// The thread counts the loops are compared on over this buffer (`kernel_loop`, `spells`):
    /// one, and every thread where the working set is large enough to share out among them.
    pub(super) fn thread_counts(&self) -> Vec<usize> {
        let mut counts = vec![1];
        if self.threads > 1 && self.passes(self.threads).is_some() {
            counts.push(self.threads);
        }
        counts
    }

    /// Each of `t` threads' share of x and y, the chunks the probe gives them ([`chunk_bounds`]).
    pub(super) fn chunks(&self, t: usize) -> Vec<(&[f64], &[f64])> {
        let (x, y) = self.columns();
        chunks_of(x, y, t)
    }
}

/// The most points a [`PointBuffer`] takes: x and y, 16 bytes a point, and room to place y, in
/// one allocation of at most isize::MAX bytes.
const MOST_POINTS: usize = isize::MAX as usize / (2 * BYTES_PER_POINT);

/// Values a buffer needs for x and y of `points` points laid out as `linreg` lays out a dataset:
/// x from the start, y from [`second_column_start`] (half the L2's set span from x where the
/// buffer lies on whole pages).
fn columns_len(points: usize) -> usize {
    second_column_start(points) + points
}

/// x and y of `points` points in `values` (at least [`columns_len`] of them).
fn columns_in(values: &[f64], points: usize) -> (&[f64], &[f64]) {
    let y_start = second_column_start(points);
    (&values[..points], &values[y_start..y_start + points])
}

/// x and y cut into `t` threads' chunks at [`chunk_bounds`].
fn chunks_of<'a>(x: &'a [f64], y: &'a [f64], t: usize) -> Vec<(&'a [f64], &'a [f64])> {
    chunk_bounds(x.len(), t).windows(2).map(|b| (&x[b[0]..b[1]], &y[b[0]..b[1]])).collect()
}

/// [`measure_at_point`]'s figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointBandwidth {
    /// The thread count of `all_threads`.
    pub threads: usize,
    pub single_thread: BandwidthAtSize,
    /// None on one CPU, or for a working set too small to share out.
    pub all_threads: Option<BandwidthAtSize>,
    /// Where the buffer lay on whole pages: the share of it Linux had backed with huge pages once
    /// it was written ([`super::huge_pages::share`]); None on the heap, and in runs
    /// made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huge_page_share: Option<f64>,
    /// The epoch's arithmetic on one thread and on every thread, timed right after the bandwidth
    /// ([`compute::POINT_SAMPLES`] samples each): whether the CPUs ran at once during this probe
    /// ([`ComputeCeiling::threads_ran_at_once`]), which the start-of-run ceiling cannot say for a
    /// point an hour later. None on one CPU, where it could not be timed, in [`PointBandwidth::union`]
    /// (each probe keeps its own), and in runs made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeCeiling>,
}

impl PointBandwidth {
    /// Several probes of one point taken as one (see [`BandwidthAtSize::union`]): a point probed
    /// before its first run and after its last is held to the best either saw. None without probes.
    pub(crate) fn union(probes: &[PointBandwidth]) -> Option<PointBandwidth> {
        let first = probes.first()?;
        let single: Vec<&BandwidthAtSize> = probes.iter().map(|p| &p.single_thread).collect();
        let all: Vec<&BandwidthAtSize> = probes.iter().filter_map(|p| p.all_threads.as_ref()).collect();
        Some(PointBandwidth {
            threads: first.threads,
            single_thread: BandwidthAtSize::union(&single)?,
            all_threads: BandwidthAtSize::union(&all),
            // The least any probe got: the limit may come from either.
            huge_page_share: probes.iter().filter_map(|p| p.huge_page_share).reduce(f64::min),
            // Each probe's own saw its moment; one probe is its own union.
            compute: if probes.len() == 1 { first.compute.clone() } else { None },
        })
    }
}

impl BandwidthAtSize {
    /// Probes of one working set taken as one: the best of their best samples, the worst of their
    /// worst, the median of their medians (each probe's own samples are not kept), every sample
    /// counted; meeting after every pass only if every probe did. None without probes.
    fn union(probes: &[&BandwidthAtSize]) -> Option<BandwidthAtSize> {
        let first = *probes.first()?;
        let medians: Vec<f64> = probes.iter().map(|p| p.bytes_per_second.median).collect();
        Some(BandwidthAtSize {
            working_set_bytes: first.working_set_bytes,
            passes_per_sample: first.passes_per_sample,
            samples: probes.iter().map(|p| p.samples).sum(),
            bytes_per_second: Spread {
                best: probes.iter().map(|p| p.bytes_per_second.best).fold(f64::NEG_INFINITY, f64::max),
                median: crate::stats::median(&medians).unwrap_or(first.bytes_per_second.median),
                worst: probes.iter().map(|p| p.bytes_per_second.worst).fold(f64::INFINITY, f64::min),
            },
            meets_every_pass: probes.iter().all(|p| p.meets_every_pass),
            blocks_back_and_forth: probes.iter().all(|p| p.blocks_back_and_forth),
        })
    }
}

/// `samples` timed samples of `passes` passes over x and y (one working set), shared out among
/// `t` threads in aligned chunks, as bytes a second.
fn measure_size(isa: Isa, x: &[f64], y: &[f64], t: usize, passes: u64, samples: usize) -> Result<BandwidthAtSize, ProbeError> {
    let chunks = chunks_of(x, y, t);
    let order = PassCounts::new(t);
    let seconds = time_together(t, samples, |i| {
        let (xs, ys) = chunks[i];
        // black_box on the slices and the sum: the optimiser may not skip the loads.
        if t > 1 {
            black_box((0..passes).map(|_| pool_pass(isa, (black_box(xs), black_box(ys)), order.next(i))).sum::<f64>());
        } else {
            black_box(read_sum(isa, black_box(xs), black_box(ys), passes));
        }
    })?;
    Ok(at_size(x.len(), passes, &seconds, false, t > 1))
}

/// Each thread's count of the passes it has made, through every sample of a measurement (the
/// warm-up's included), so that its blocks' order turns every pass, from one sample to the next
/// too; each on lines of its own.
pub(super) struct PassCounts(Vec<PassCount>);

#[repr(align(128))]
struct PassCount(AtomicU64);

impl PassCounts {
    pub(super) fn new(threads: usize) -> PassCounts {
        PassCounts((0..threads).map(|_| PassCount(AtomicU64::new(0))).collect())
    }

    /// Thread `i`'s next pass number.
    pub(super) fn next(&self, i: usize) -> u64 {
        self.0[i].0.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// One pass over a thread's chunk as the parallel kernel's threads read their runs: in blocks of
/// [`linreg::kernels::parallel::BLOCK_POINTS`], in ascending order in even passes and descending
/// in odd ones (`pass` numbers them; `linreg::kernels::back_and_forth`, the order the kernel's
/// threads claim them in), so that each pass starts on the blocks the last one read last, the ones
/// the core's L2 still holds. Where two threads' halves pass their L2s, that is worth 1.2–1.9× to
/// the kernel (docs/limits.md), and a limit read forward only would be one the kernel beats. The
/// one-thread limit reads forward, as the simd kernel does.
pub(super) fn pool_pass(isa: Isa, chunk: (&[f64], &[f64]), pass: u64) -> f64 {
    in_pool_order(chunk, pass, |block| one_pass(isa, block))
}

/// `sum` of each block of a thread's chunk, in the order [`pool_pass`] reads them in pass `pass`,
/// added up: the order the kernels' loop is timed in beside the probe's (`kernel_loop`).
pub(super) fn in_pool_order<'a>((x, y): (&'a [f64], &'a [f64]), pass: u64, mut sum: impl FnMut((&'a [f64], &'a [f64])) -> f64) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    let block = linreg::kernels::parallel::BLOCK_POINTS;
    let points = |k: usize| k * block..((k + 1) * block).min(x.len());
    linreg::kernels::back_and_forth::order(x.len().div_ceil(block).max(1), pass).map(|k| sum((&x[points(k)], &y[points(k)]))).sum()
}

fn at_size(points: usize, passes: u64, seconds: &[f64], meets_every_pass: bool, blocks_back_and_forth: bool) -> BandwidthAtSize {
    let size = (points * BYTES_PER_POINT) as u64;
    let bytes_per_second = Spread::of_rates(size as f64 * passes as f64, seconds);
    BandwidthAtSize {
        working_set_bytes: size,
        passes_per_sample: passes,
        samples: seconds.len(),
        bytes_per_second,
        meets_every_pass,
        blocks_back_and_forth,
    }
}

/// [`measure_size`] with the threads meeting after every pass ([`time_meeting_every_pass`]), as
/// the parallel kernel's threads meet once an epoch. Gradient descent cannot go on to epoch k + 1
/// before every thread's share of epoch k is summed, so a limit without the meeting is one no
/// kernel of it can reach where an epoch is short: on two threads of a 2-vCPU Zen 3 (family 25
/// model 1), 3 probes each, the two-thread limit at 10^4 points read 0.078–0.088 ns a point
/// without the meeting and 0.092–0.093 with it, at 2·10^4 0.080–0.082 and 0.085–0.086 (a meeting
/// costs ~0.13 µs there, an epoch ~1 µs); from 10^5 on the two agree within their spread.
fn measure_meeting_every_pass(
    isa: Isa,
    x: &[f64],
    y: &[f64],
    t: usize,
    passes: u64,
    samples: usize,
) -> Result<BandwidthAtSize, ProbeError> {
    let chunks = chunks_of(x, y, t);
    let order = PassCounts::new(t);
    let seconds = time_meeting_every_pass(t, samples, passes, |i| pool_pass(isa, chunks[i], order.next(i)))?;
    Ok(at_size(x.len(), passes, &seconds, true, true))
}

/// As many samples of `sample_seconds` as fit in `budget_seconds`, between [`MIN_SAMPLES`] (or
/// `most`, if fewer) and `most`.
fn samples_within(budget_seconds: f64, sample_seconds: f64, most: usize) -> usize {
    let fit = budget_seconds / sample_seconds;
    let fit = if fit.is_finite() { fit.floor().min(most as f64) as usize } else { most };
    fit.clamp(MIN_SAMPLES.min(most), most)
}

/// Passes a sample needs to last `target_seconds` at `bytes_per_second`: at least one.
fn passes_for(working_set_bytes: u64, bytes_per_second: f64, target_seconds: f64) -> u64 {
    let passes = (target_seconds * bytes_per_second / working_set_bytes as f64).ceil();
    if passes.is_finite() && passes >= 1.0 {
        passes as u64
    } else {
        1
    }
}

/// A first estimate of the bytes a second over a small working set, on this thread: passes are
/// doubled until they take a measurable time, and the loop runs for [`WARM_UP_SECONDS`] in all, so
/// the core has left any idle state and the first size is measured like the others (without this,
/// the first size read half the bandwidth of the next one here, right after the pages were
/// touched).
fn calibrate(isa: Isa, x: &[f64], y: &[f64]) -> f64 {
    let bytes = (x.len() * BYTES_PER_POINT) as f64;
    let warm_up = Instant::now();
    let mut passes = 1u64;
    loop {
        let start = Instant::now();
        black_box(read_sum(isa, black_box(x), black_box(y), passes));
        let seconds = start.elapsed().as_secs_f64();
        if seconds < 1e-4 && passes < 1 << 30 {
            passes *= 2;
        } else if warm_up.elapsed().as_secs_f64() >= WARM_UP_SECONDS || seconds >= WARM_UP_SECONDS {
            return bytes * passes as f64 / seconds.max(1e-9);
        }
    }
}

/// How long the calibration keeps the core busy before the first timed sample.
const WARM_UP_SECONDS: f64 = 0.02;

/// `values` values placed as `linreg` places a dataset of as many ([`Buffer`]: from a cache line,
/// and on whole huge pages from about a third of the L2 up, so that the probe and the kernels read
/// memory laid out alike), every page written: the page faults (and the kernel zeroing each page)
/// happen here rather than inside the timed passes. Written by `threads` threads at once: on the VM
/// this was written on, faulting in 512 MiB of fresh huge pages took 1.5–2.3 s on one thread when
/// the memory was new to the VM, and 0.1 s when a probe had just freed it. The kernels' vector
/// loops start where x reaches a line (see `linreg::kernels::simd`); a probe that reads 64-byte
/// vectors from 16 bytes past one, as the allocator places a large buffer, reads two lines a load
/// and reports less than the kernels get: on an Emerald Rapids (AVX-512) the simd kernel ran at
/// 109–153% of such a limit at 10^4–10^5 points. Every size and chunk here is a whole number of
/// lines, so y and each thread's chunk start on a line too.
fn touched(values: usize, threads: usize) -> Result<Buffer, ProbeError> {
    let bytes = values.saturating_mul(std::mem::size_of::<f64>());
    let mut buffer = Buffer::try_zeroed(values).ok_or(ProbeError::Allocation { bytes })?;
    let per_thread = values.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        for (k, chunk) in buffer.values_mut().chunks_mut(per_thread).enumerate() {
            scope.spawn(move || {
                // Any values do: the loop only has to read them. Small integers keep sums exact.
                for (i, value) in chunk.iter_mut().enumerate() {
                    *value = ((k * per_thread + i) % 8) as f64;
                }
            });
        }
    });
    Ok(buffer)
}

/// The start of each thread's chunk, and `points` at the end: chunks of near-equal size, each
/// starting on a multiple of [`CHUNK_ALIGN_POINTS`] (non-empty when points ≥ threads × that).
fn chunk_bounds(points: usize, threads: usize) -> Vec<usize> {
    let per_thread = points / threads;
    (0..threads).map(|i| per_thread * i / CHUNK_ALIGN_POINTS * CHUNK_ALIGN_POINTS).chain([points]).collect()
}

/// One pass of the probe's loop over a thread's chunk, as the threads meeting after every pass
/// make it (the optimiser may not skip the loads).
pub(super) fn one_pass(isa: Isa, (x, y): (&[f64], &[f64])) -> f64 {
    read_sum(isa, black_box(x), black_box(y), 1)
}

/// Σ (x_i·c + y_i) over `passes` passes: every element of both arrays read once a pass, with half
/// the arithmetic of the gradient kernel (one fused multiply-add and one add a point against two of
/// each, each on its own execution port), so the loop is bound by the loads and never by
/// arithmetic. The sums carry across passes and are reduced once at the end: over a working set
/// that fits in L1, a reduction every pass would cost as much as the pass.
fn read_sum(isa: Isa, x: &[f64], y: &[f64], passes: u64) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    match isa {
        Isa::Portable => portable_read_sum(x, y, passes),
        // SAFETY: `Isa::widest` chose these only after the CPU reported the features; the slices
        // have the same length (both are the same range of equal-length arrays).
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { x86::avx2_read_sum(x, y, passes) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::avx512_read_sum(x, y, passes) },
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2Fma | Isa::Avx512 => portable_read_sum(x, y, passes),
    }
}

/// Eight independent sums hide the add latency; one dependent chain of adds, ~4 cycles a point,
/// would make this loop slower than memory on a fast machine.
const PORTABLE_LANES: usize = 8;

fn portable_read_sum(x: &[f64], y: &[f64], passes: u64) -> f64 {
    let mut sums = [0.0f64; PORTABLE_LANES];
    let mut tail = 0.0;
    for _ in 0..passes {
        let mut x_blocks = x.chunks_exact(PORTABLE_LANES);
        let mut y_blocks = y.chunks_exact(PORTABLE_LANES);
        for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
            for k in 0..PORTABLE_LANES {
                sums[k] += xb[k] * STREAM_SCALE + yb[k];
            }
        }
        tail += tail_sum(x_blocks.remainder(), y_blocks.remainder());
    }
    sums.iter().sum::<f64>() + tail
}

/// The points after the last whole block, one at a time.
fn tail_sum(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(&xi, &yi)| xi * STREAM_SCALE + yi).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{AVX512_ACCUMULATORS, AVX512_WIDTH};

    /// Independent accumulators of the AVX2 loop: enough to hide the add latency, so the core
    /// could stream faster than any cache level feeds it.
    const AVX2_ACCUMULATORS: usize = 4;

    /// # Safety
    /// The CPU must support AVX2 and FMA, and `x` and `y` must have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2_read_sum(x: &[f64], y: &[f64], passes: u64) -> f64 {
        const WIDTH: usize = 4;
        const BLOCK: usize = WIDTH * AVX2_ACCUMULATORS;
        let scale = _mm256_set1_pd(super::STREAM_SCALE);
        let mut sums = [_mm256_setzero_pd(); AVX2_ACCUMULATORS];
        let whole = x.len() / BLOCK * BLOCK;
        for _ in 0..passes {
            for (xb, yb) in x[..whole].chunks_exact(BLOCK).zip(y[..whole].chunks_exact(BLOCK)) {
                for (k, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: both blocks hold BLOCK values, so the WIDTH values from k·WIDTH are
                    // in bounds; loadu has no alignment requirement.
                    let (x_v, y_v) = unsafe { (_mm256_loadu_pd(xb.as_ptr().add(k * WIDTH)), _mm256_loadu_pd(yb.as_ptr().add(k * WIDTH))) };
                    *sum = _mm256_add_pd(*sum, _mm256_fmadd_pd(x_v, scale, y_v));
                }
            }
        }
        let mut lanes = [0.0f64; WIDTH];
        for sum in sums {
            let mut part = [0.0f64; WIDTH];
            // SAFETY: `part` has room for exactly WIDTH f64; storeu has no alignment requirement.
            unsafe { _mm256_storeu_pd(part.as_mut_ptr(), sum) };
            lanes.iter_mut().zip(part).for_each(|(lane, p)| *lane += p);
        }
        lanes.iter().sum::<f64>() + super::tail_sum(&x[whole..], &y[whole..]) * passes as f64
    }

    /// # Safety
    /// The CPU must support AVX-512F, and `x` and `y` must have the same length.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512_read_sum(x: &[f64], y: &[f64], passes: u64) -> f64 {
        const WIDTH: usize = AVX512_WIDTH;
        const BLOCK: usize = WIDTH * AVX512_ACCUMULATORS;
        let scale = _mm512_set1_pd(super::STREAM_SCALE);
        let mut sums = [_mm512_setzero_pd(); AVX512_ACCUMULATORS];
        let whole = x.len() / BLOCK * BLOCK;
        for _ in 0..passes {
            for (xb, yb) in x[..whole].chunks_exact(BLOCK).zip(y[..whole].chunks_exact(BLOCK)) {
                for (k, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: both blocks hold BLOCK values, so the WIDTH values from k·WIDTH are
                    // in bounds; loadu has no alignment requirement.
                    let (x_v, y_v) = unsafe { (_mm512_loadu_pd(xb.as_ptr().add(k * WIDTH)), _mm512_loadu_pd(yb.as_ptr().add(k * WIDTH))) };
                    *sum = _mm512_add_pd(*sum, _mm512_fmadd_pd(x_v, scale, y_v));
                }
            }
        }
        let total: f64 = sums.iter().map(|&s| _mm512_reduce_add_pd(s)).sum();
        total + super::tail_sum(&x[whole..], &y[whole..]) * passes as f64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use linreg::placement::LINE_VALUES;

    /// A probe of 1 MiB read at 30, 20 and 10 GB/s (best, median, worst) on one thread and on two,
    /// the two meeting every pass and reading their blocks back and forth, with `compute` as its
    /// check of the CPUs: for tests of what is made of a probe.
    pub(crate) fn one_mib_probe(compute: Option<ComputeCeiling>) -> PointBandwidth {
        let at = |as_the_pool: bool| BandwidthAtSize {
            working_set_bytes: 1 << 20,
            passes_per_sample: 1,
            samples: 7,
            bytes_per_second: Spread { best: 3e10, median: 2e10, worst: 1e10 },
            meets_every_pass: as_the_pool,
            blocks_back_and_forth: as_the_pool,
        };
        PointBandwidth { threads: 2, single_thread: at(false), all_threads: Some(at(true)), huge_page_share: None, compute }
    }

    #[test]
    fn loops_are_compared_on_every_thread_only_where_each_gets_a_few_blocks() {
        let cpus = linreg::default_threads().get();
        let smallest = CHUNK_ALIGN_POINTS * MIN_BLOCKS_PER_THREAD;
        let counts = |points: usize| PointBuffer::new(points).expect("a buffer").expect("timed").thread_counts();
        assert_eq!(counts(smallest), vec![1]);
        let enough = cpus * smallest;
        assert_eq!(counts(enough), if cpus > 1 { vec![1, cpus] } else { vec![1] });
        if cpus > 1 {
            assert_eq!(counts(enough - CHUNK_ALIGN_POINTS), vec![1]);
        }
    }

    #[test]
    fn sizes_are_log_spaced_whole_blocks_ending_at_the_largest() {
        let sizes = working_set_sizes(16 << 10, 512 << 20, 2);
        assert_eq!(sizes.first(), Some(&(16 << 10)));
        assert_eq!(sizes.last(), Some(&(512 << 20)));
        // 16 KiB → 512 MiB is 15 doublings: 2 a doubling, and the end.
        assert_eq!(sizes.len(), 31, "{sizes:?}");
        for pair in sizes.windows(2) {
            let ratio = pair[1] as f64 / pair[0] as f64;
            assert!((1.3..=1.5).contains(&ratio), "{pair:?}");
        }
        assert!(sizes.iter().all(|s| s % 1024 == 0));
        // A largest size below the smallest: only the largest.
        assert_eq!(working_set_sizes(16 << 10, 4096, 2), vec![4096]);
    }

    #[test]
    fn a_small_curve_is_positive_finite_and_ordered() {
        let settings = CurveSettings {
            min_working_set_bytes: 16 << 10,
            max_working_set_bytes: (1 << 20) + 8 * 16,
            sizes_per_octave: 1,
            samples: 3,
            target_sample_seconds: 1e-4,
            budget_seconds: 10.0,
        };
        let curve = measure_curve(&settings, &CancelToken::new()).expect("a small probe runs");
        assert_eq!(curve.single_thread.len(), 7, "16 KiB … 1 MiB by doublings");
        for at in curve.single_thread.iter().chain(&curve.all_threads) {
            let s = at.bytes_per_second;
            assert!(s.worst.is_finite() && s.worst > 0.0, "{at:?}");
            assert!(s.worst <= s.median && s.median <= s.best, "{at:?}");
            assert!(at.passes_per_sample >= 1);
        }
        assert!(curve.single_thread.windows(2).all(|p| p[0].working_set_bytes < p[1].working_set_bytes));
        assert!(curve.memory_bytes_per_second(true).is_some());
    }

    #[test]
    fn samples_fit_the_budget_within_their_bounds() {
        assert_eq!(samples_within(1.0, 0.1, 7), 7);
        assert_eq!(samples_within(0.5, 0.1, 7), 5);
        assert_eq!(samples_within(0.0, 0.1, 7), MIN_SAMPLES);
        assert_eq!(samples_within(0.0, 0.1, 2), 2);
        assert_eq!(samples_within(1.0, 0.0, 7), 7);
    }

    #[test]
    fn passes_fill_the_target_and_never_drop_to_zero() {
        assert_eq!(passes_for(1000, 1e9, 1e-3), 1000);
        assert_eq!(passes_for(1 << 30, 1e9, 1e-3), 1);
        assert_eq!(passes_for(1000, f64::NAN, 1e-3), 1);
    }

    #[test]
    fn the_columns_start_on_a_cache_line_where_linreg_puts_them() {
        for points in [1024, 50_000, 1 << 20] {
            let buffer = touched(columns_len(points), 2).expect("a buffer");
            let (x, y) = columns_in(buffer.values(), points);
            let y_start = (y.as_ptr() as usize - x.as_ptr() as usize) / 8;
            assert_eq!(y_start, second_column_start(points), "y where linreg puts it, {points} points");
            assert_eq!(x.as_ptr() as usize % 64, 0, "x, {points} points");
            assert_eq!(y.as_ptr() as usize % 64, 0, "y, {points} points");
            assert!(x.iter().chain(y).enumerate().all(|(i, v)| *v == (i % 8) as f64), "{points} points written");
        }
        assert_eq!(CHUNK_ALIGN_POINTS % LINE_VALUES, 0, "chunks and sizes are whole lines");
    }

    #[test]
    fn a_pool_pass_reads_every_point_once_in_either_order() {
        let points = 3 * linreg::kernels::parallel::BLOCK_POINTS + 640;
        let buffer = touched(columns_len(points), 1).expect("a buffer");
        let (x, y) = columns_in(buffer.values(), points);
        let isa = Isa::Portable;
        let whole = one_pass(isa, (x, y));
        for pass in 0..2 {
            let sum = pool_pass(isa, (x, y), pass);
            assert!((sum - whole).abs() <= 1e-9 * whole.abs(), "pass {pass}: {sum} against {whole}");
        }
        let small = (&x[..640], &y[..640]);
        assert_eq!(pool_pass(isa, small, 1), one_pass(isa, small), "less than a block: one pass as it is");
    }

    #[test]
    fn chunks_cover_every_point_once_on_aligned_starts() {
        for (points, threads) in [(64, 1), (128, 2), (1000, 2), (1001, 3), (4096, 7)] {
            let bounds = chunk_bounds(points, threads);
            assert_eq!(bounds.len(), threads + 1);
            assert_eq!((bounds[0], bounds[threads]), (0, points));
            for pair in bounds.windows(2) {
                assert!(pair[0] < pair[1], "{points} points on {threads} threads: {bounds:?}");
                assert_eq!(pair[0] % CHUNK_ALIGN_POINTS, 0);
            }
        }
    }

    #[test]
    fn a_points_limit_on_every_thread_meets_every_pass_and_on_one_does_not() {
        let point = measure_at_point(8192, &CancelToken::new()).expect("a small probe runs").expect("8 192 points are timed");
        assert!(!point.single_thread.meets_every_pass && !point.single_thread.blocks_back_and_forth, "one thread reads forward");
        // Shared out only among threads that get a few blocks each: on more than 32 CPUs, none.
        let shared = point.threads > 1 && 8192 >= point.threads * CHUNK_ALIGN_POINTS * MIN_BLOCKS_PER_THREAD;
        assert_eq!(point.all_threads.as_ref().map(|a| (a.meets_every_pass, a.blocks_back_and_forth)), shared.then_some((true, true)));
        // On several CPUs the probe also checks that they ran at once, on as many threads.
        assert_eq!(
            point.compute.as_ref().map(|c| (c.threads, c.samples)),
            (point.threads > 1).then_some((point.threads, compute::POINT_SAMPLES))
        );
        let recorded_before: BandwidthAtSize = serde_json::from_value(serde_json::json!({
            "working_set_bytes": 16384, "passes_per_sample": 4, "samples": 7,
            "bytes_per_second": {"best": 2e10, "median": 1.9e10, "worst": 1.5e10}, "meets_every_pass": true
        }))
        .expect("a record from before the blocks' order was kept");
        assert!(!recorded_before.blocks_back_and_forth);
        let x = vec![1.0; 1024];
        let three = measure_meeting_every_pass(Isa::Portable, &x, &x, 3, 4, 2).expect("three threads start");
        assert_eq!((three.meets_every_pass, three.passes_per_sample, three.samples, three.working_set_bytes), (true, 4, 2, 1024 * 16));
        assert!(three.bytes_per_second.worst > 0.0 && three.bytes_per_second.best.is_finite());
    }

    #[test]
    fn probes_of_one_point_unite_into_the_best_the_worst_and_the_median_of_medians() {
        let at = |best: f64, median: f64, worst: f64, meets_every_pass: bool| BandwidthAtSize {
            working_set_bytes: 160_000,
            passes_per_sample: 9,
            samples: 7,
            bytes_per_second: Spread { best, median, worst },
            meets_every_pass,
            blocks_back_and_forth: false,
        };
        let before = PointBandwidth {
            threads: 2,
            single_thread: at(10.0, 8.0, 5.0, false),
            all_threads: Some(at(18.0, 16.0, 12.0, true)),
            huge_page_share: None,
            compute: None,
        };
        let after = PointBandwidth {
            threads: 2,
            single_thread: at(12.0, 11.0, 9.0, false),
            all_threads: None,
            huge_page_share: None,
            compute: None,
        };
        let both = PointBandwidth::union(&[before.clone(), after]).expect("two probes");
        assert_eq!(both.single_thread.bytes_per_second, Spread { best: 12.0, median: 9.5, worst: 5.0 });
        assert_eq!((both.single_thread.samples, both.single_thread.passes_per_sample), (14, 9));
        assert_eq!(both.all_threads, before.all_threads, "only one probe shared the point out");
        assert_eq!(PointBandwidth::union(std::slice::from_ref(&before)), Some(before.clone()));
        // Each probe keeps its own check of the CPUs; one probe is its own union.
        let checked = PointBandwidth { compute: Some(ComputeCeiling::of_rates(6e10, 1.2e11, 2, Some(2))), ..before };
        assert_eq!(PointBandwidth::union(std::slice::from_ref(&checked)), Some(checked.clone()));
        assert_eq!(PointBandwidth::union(&[checked.clone(), checked]).and_then(|b| b.compute), None);
        assert_eq!(PointBandwidth::union(&[]), None);
    }

    #[test]
    fn every_loop_sums_the_same() {
        // Small integers and halves: every partial sum is exact, so the order does not matter.
        let x: Vec<f64> = (0..1003).map(|i| (i % 7) as f64).collect();
        let y: Vec<f64> = (0..1003).map(|i| (i % 5) as f64).collect();
        let want: f64 = x.iter().zip(&y).map(|(&xi, &yi)| xi * STREAM_SCALE + yi).sum();
        for isa in Isa::available() {
            assert_eq!(read_sum(isa, &x, &y, 1), want, "{isa:?}");
            assert_eq!(read_sum(isa, &x, &y, 3), 3.0 * want, "{isa:?}");
        }
    }
}
