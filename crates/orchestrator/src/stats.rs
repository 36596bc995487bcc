//! Statistics of repeated measurements: robust summaries (median, MAD, outliers), seeded bootstrap
//! confidence intervals of the median, and ratios of medians for speed-ups and comparisons. Pure
//! functions with no I/O and no formatting; the report and `orchestrator compare` decide how to
//! show them.
//!
//! Every function here ignores non-finite values (NaN, ±∞): a run that produced no number must
//! not move the statistics of the runs that did. Indices returned (outliers) are positions in the
//! slice the caller passed, non-finite values included, so they map straight back to runs.
//!
//! Percentiles of a bootstrap distribution use linear interpolation between order statistics
//! (Hyndman & Fan type 7, NumPy's and R's default): for B sorted resample medians m[0..B] and
//! probability p, h = (B − 1)·p and the percentile is m[⌊h⌋] + (h − ⌊h⌋)·(m[⌊h⌋ + 1] − m[⌊h⌋]).
//! A (1 − α) interval is (percentile α/2, percentile 1 − α/2).

use crate::rng::SplitMix64;

/// Confidence level of every interval the report prints.
pub(crate) const CONFIDENCE: f64 = 0.95;
/// Bootstrap resamples per interval: enough that the 2.5% and 97.5% percentiles of the
/// resampled medians are stable to well under the spread of the data.
pub(crate) const BOOTSTRAP_RESAMPLES: usize = 10_000;
/// Modified z-score beyond which a value is an outlier (Iglewicz & Hoaglin's recommendation).
pub(crate) const OUTLIER_Z: f64 = 3.5;

/// Modified z-score scale: 0.6745 is the 0.75 quantile of the standard normal, so
/// 0.6745·(x − median)/MAD is a z-score for normal data.
const MODIFIED_Z_MAD_SCALE: f64 = 0.6745;
/// Used instead when MAD is 0: for normal data the mean absolute deviation is √(2/π)·σ ≈ 0.7979·σ,
/// so σ ≈ 1.253314·MeanAD.
const MODIFIED_Z_MEAN_AD_SCALE: f64 = 1.253314;
/// A ratio's bootstrap drops resamples whose denominator median is 0; if more than this fraction
/// would be dropped, the remaining resamples describe "the ratio given a nonzero denominator",
/// not the estimate, so no interval is given at all.
const MAX_DROPPED_FRACTION: f64 = 0.1;

/// A stable seed from a key such as "seed/0/rust/wall" (FNV-1a 64 over the key's bytes), so
/// rendering the same raw records twice gives bit-identical intervals.
pub(crate) fn seed_for(key: &str) -> u64 {
    const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
    key.bytes().fold(FNV_OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME))
}

/// The finite values, in order.
fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// Median of a non-empty buffer of finite values, reordering it. Linear time (selection, not a
/// sort), since the bootstrap calls it once per resample.
fn median_in_place(buffer: &mut [f64]) -> f64 {
    debug_assert!(!buffer.is_empty());
    let count = buffer.len();
    let (below, &mut upper_middle, _) = buffer.select_nth_unstable_by(count / 2, f64::total_cmp);
    if count % 2 == 1 {
        return upper_middle;
    }
    // After selection everything before the middle position is ≤ it, so the lower middle is their maximum.
    let lower_middle = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower_middle + upper_middle) / 2.0
}

/// The median; the mean of the two middle values when the count is even. None when there are no
/// finite values.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut buffer = finite(values);
    if buffer.is_empty() {
        return None;
    }
    Some(median_in_place(&mut buffer))
}

/// The `p`-quantile (0 ≤ p ≤ 1) of the finite values, interpolated as [`percentile_by_selection`]
/// gives it. None when there are no finite values.
pub(crate) fn quantile(values: &[f64], p: f64) -> Option<f64> {
    let mut buffer = finite(values);
    (!buffer.is_empty()).then(|| percentile_by_selection(&mut buffer, p.clamp(0.0, 1.0)))
}

/// Raw (unscaled) median absolute deviation from the median. Multiply by 1.4826 to estimate σ
/// for normal data; the report shows it raw. None when there are no finite values.
pub(crate) fn mad(values: &[f64]) -> Option<f64> {
    let center = median(values)?;
    let mut deviations: Vec<f64> = values.iter().filter(|v| v.is_finite()).map(|v| (v - center).abs()).collect();
    Some(median_in_place(&mut deviations))
}

/// Indices of outliers: values whose modified z-score 0.6745·(x − median)/MAD exceeds
/// [`OUTLIER_Z`] in absolute value (Iglewicz & Hoaglin). When more than half the values are
/// equal MAD is 0, so the mean absolute deviation from the median stands in:
/// z = (x − median)/(1.253314·MeanAD). When that is 0 too, every value is equal and none is an
/// outlier.
pub(crate) fn outliers(values: &[f64]) -> Vec<usize> {
    let (Some(center), Some(median_absolute_deviation)) = (median(values), mad(values)) else {
        return Vec::new();
    };
    let scale = if median_absolute_deviation > 0.0 {
        median_absolute_deviation / MODIFIED_Z_MAD_SCALE
    } else {
        let deviations = finite(values).iter().map(|v| (v - center).abs()).collect::<Vec<_>>();
        let mean_absolute_deviation = deviations.iter().sum::<f64>() / deviations.len() as f64;
        MODIFIED_Z_MEAN_AD_SCALE * mean_absolute_deviation
    };
    if scale <= 0.0 {
        return Vec::new();
    }
    values.iter().enumerate().filter(|(_, v)| v.is_finite() && ((*v - center) / scale).abs() > OUTLIER_Z).map(|(index, _)| index).collect()
}

/// The `p`-quantile (0 ≤ p ≤ 1) of sorted values by linear interpolation (type 7; see the top of
/// this file).
#[cfg(test)]
fn percentile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    debug_assert!(!sorted.is_empty() && (0.0..=1.0).contains(&p));
    let position = (sorted.len() - 1) as f64 * p;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(sorted.len() - 1);
    sorted[lower] + (position - lower as f64) * (sorted[upper] - sorted[lower])
}

/// The `p`-quantile (0 ≤ p ≤ 1) of non-empty values, as [`percentile_of_sorted`] gives it of the
/// values sorted, found by selecting the two order statistics it needs (linear time, against a
/// sort's n log n: the interval of every bootstrap is found this way); reorders the values.
fn percentile_by_selection(values: &mut [f64], p: f64) -> f64 {
    debug_assert!(!values.is_empty() && (0.0..=1.0).contains(&p));
    let position = (values.len() - 1) as f64 * p;
    let lower = position.floor() as usize;
    let (_, &mut at_lower, above) = values.select_nth_unstable_by(lower, f64::total_cmp);
    let at_upper = above.iter().copied().min_by(f64::total_cmp).unwrap_or(at_lower);
    at_lower + (position - lower as f64) * (at_upper - at_lower)
}

/// The equal-tailed `confidence` interval of a bootstrap distribution; reorders it.
fn percentile_interval(estimates: &mut [f64], confidence: f64) -> (f64, f64) {
    let tail = (1.0 - confidence) / 2.0;
    (percentile_by_selection(estimates, tail), percentile_by_selection(estimates, 1.0 - tail))
}

/// A sample ready to be resampled many times: its values in order, the rank of each value (ties
/// by position), and a count per rank. A resample draws positions exactly as copying the drawn
/// values would (`len` calls of `below(len)`), but counts their ranks instead, so its median is
/// read off the counts: the same draws and bit for bit the same median as selecting among copied
/// values, in a pass over the counts rather than a selection over a copy (three times faster at
/// 10 values, twice at 10 000).
struct Resampler {
    sorted: Vec<f64>,
    rank: Vec<u32>,
    counts: Vec<u32>,
}

impl Resampler {
    /// `sample` must not be empty, nor hold more than u32::MAX values.
    fn new(sample: &[f64]) -> Resampler {
        let mut order: Vec<usize> = (0..sample.len()).collect();
        order.sort_unstable_by(|&a, &b| sample[a].total_cmp(&sample[b]).then(a.cmp(&b)));
        let mut rank = vec![0u32; sample.len()];
        for (r, &position) in order.iter().enumerate() {
            rank[position] = r as u32;
        }
        Resampler { sorted: order.iter().map(|&position| sample[position]).collect(), rank, counts: vec![0; sample.len()] }
    }

    /// The median of one resample (with replacement, as many values as the sample holds).
    fn resample_median(&mut self, rng: &mut SplitMix64) -> f64 {
        let count = self.rank.len();
        for _ in 0..count {
            self.counts[self.rank[rng.below(count)] as usize] += 1;
        }
        // The values at positions (count − 1)/2 and count/2 from 0 of the resample in order: the
        // middle one twice for an odd count, the two middle ones for an even count.
        let (lower_position, upper_position) = ((count - 1) / 2, count / 2);
        let (mut rank, mut below) = (0usize, self.counts[0] as usize);
        while below <= lower_position {
            rank += 1;
            below += self.counts[rank] as usize;
        }
        let lower_middle = self.sorted[rank];
        while below <= upper_position {
            rank += 1;
            below += self.counts[rank] as usize;
        }
        let upper_middle = self.sorted[rank];
        self.counts.fill(0);
        if count % 2 == 1 {
            upper_middle
        } else {
            (lower_middle + upper_middle) / 2.0
        }
    }
}

fn is_valid_level(confidence: f64) -> bool {
    confidence > 0.0 && confidence < 1.0
}

/// Percentile bootstrap interval of the median: `resamples` resamples of the finite values, with
/// replacement, drawn from a generator seeded with `seed`; returns (low, high) at `confidence`
/// (e.g. 0.95). A single value gives (v, v). None when there are no finite values, `resamples` is
/// 0, or `confidence` is not strictly between 0 and 1.
pub(crate) fn bootstrap_median_ci(values: &[f64], confidence: f64, resamples: usize, seed: u64) -> Option<(f64, f64)> {
    let sample = finite(values);
    if sample.is_empty() || resamples == 0 || !is_valid_level(confidence) {
        return None;
    }
    if sample.len() == 1 {
        return Some((sample[0], sample[0]));
    }
    let mut rng = SplitMix64::new(seed);
    let mut resampler = Resampler::new(&sample);
    let mut medians: Vec<f64> = (0..resamples).map(|_| resampler.resample_median(&mut rng)).collect();
    Some(percentile_interval(&mut medians, confidence))
}

/// Summary of one sample (one metric of one implementation at one point of one scenario).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Distribution {
    /// Finite values summarised; non-finite ones are left out of every field below.
    pub count: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); 0 for a single value.
    pub sd: f64,
    pub min: f64,
    pub max: f64,
    /// Raw median absolute deviation (see [`mad`]).
    pub mad: f64,
    /// [`CONFIDENCE`] bootstrap interval of the median (see [`bootstrap_median_ci`]).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Positions of outliers in the slice passed to [`describe`] (see [`outliers`]).
    pub outliers: Vec<usize>,
}

/// Everything above for one sample, with [`CONFIDENCE`] and [`BOOTSTRAP_RESAMPLES`]. Non-finite
/// values are ignored; None when no finite value remains. Pass a seed from [`seed_for`] so a
/// re-render reproduces the interval exactly.
pub(crate) fn describe(values: &[f64], seed: u64) -> Option<Distribution> {
    let sample = finite(values);
    let count = sample.len();
    let median = median(&sample)?;
    let mean = sample.iter().sum::<f64>() / count as f64;
    // Two passes (mean first, then squared deviations) rather than Σx² − n·mean², which loses
    // everything to cancellation when the spread is tiny next to the mean, as it is for timings.
    let sd = if count > 1 { (sample.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1) as f64).sqrt() } else { 0.0 };
    let min = sample.iter().copied().fold(f64::INFINITY, f64::min);
    let max = sample.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mad = mad(&sample)?;
    let (ci_low, ci_high) = bootstrap_median_ci(&sample, CONFIDENCE, BOOTSTRAP_RESAMPLES, seed)?;
    Some(Distribution { count, median, mean, sd, min, max, mad, ci_low, ci_high, outliers: outliers(values) })
}

/// A ratio of medians with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Ratio {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// median(numerator) / median(denominator) with a [`CONFIDENCE`] percentile bootstrap interval
/// from [`BOOTSTRAP_RESAMPLES`] resamples, each resampling both samples independently.
///
/// Speed-up of implementation I over baseline B is `ratio_of_medians(B_times, I_times)`;
/// `compare` uses `ratio_of_medians(new, old)`. None when either sample has no finite values,
/// when the denominator's median is 0, or when more than a tenth of the resamples have a zero
/// denominator median (those resamples are dropped; see `MAX_DROPPED_FRACTION`).
pub(crate) fn ratio_of_medians(numerator: &[f64], denominator: &[f64], seed: u64) -> Option<Ratio> {
    ratio_of_medians_with(numerator, denominator, CONFIDENCE, BOOTSTRAP_RESAMPLES, seed)
}

/// [`ratio_of_medians`] at a chosen `confidence` and number of `resamples`. Also None when
/// `resamples` is 0 or `confidence` is not strictly between 0 and 1.
pub(crate) fn ratio_of_medians_with(numerator: &[f64], denominator: &[f64], confidence: f64, resamples: usize, seed: u64) -> Option<Ratio> {
    let numerator = finite(numerator);
    let denominator = finite(denominator);
    let estimate = median(&numerator)? / nonzero(median(&denominator)?)?;
    if resamples == 0 || !is_valid_level(confidence) {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let (mut numerator, mut denominator) = (Resampler::new(&numerator), Resampler::new(&denominator));
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        // Both resamples drawn first, numerator then denominator, whatever the denominator's median.
        let numerator_median = numerator.resample_median(&mut rng);
        if let Some(denominator_median) = nonzero(denominator.resample_median(&mut rng)) {
            ratios.push(numerator_median / denominator_median);
        }
    }
    let dropped = resamples - ratios.len();
    if ratios.is_empty() || dropped as f64 > MAX_DROPPED_FRACTION * resamples as f64 {
        return None;
    }
    let (ci_low, ci_high) = percentile_interval(&mut ratios, confidence);
    Some(Ratio { estimate, ci_low, ci_high })
}

fn nonzero(value: f64) -> Option<f64> {
    (value != 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `value` lies outside the ratio's interval: what the coverage tests count.
    fn excludes(ratio: &Ratio, value: f64) -> bool {
        value < ratio.ci_low || value > ratio.ci_high
    }

    /// Exponential with rate 1 by inverse transform; its median is ln 2. 1 − u is in (0, 1], so
    /// the logarithm is finite.
    fn exponential(rng: &mut SplitMix64) -> f64 {
        -(1.0 - rng.unit()).ln()
    }

    fn exponential_sample(rng: &mut SplitMix64, count: usize) -> Vec<f64> {
        (0..count).map(|_| exponential(rng)).collect()
    }

    /// A resample's median by counting ranks is the median of the same draws copied out, bit for
    /// bit: odd and even sizes, ties, negative zero, one value.
    #[test]
    fn counting_ranks_gives_the_median_of_the_copied_draws() {
        let mut values = SplitMix64::new(3);
        let mut samples: Vec<Vec<f64>> = (1..=40).map(|count| (0..count).map(|_| (values.unit() * 8.0).floor() - 2.0).collect()).collect();
        samples.push(vec![0.0, -0.0, 0.0, -0.0]);
        samples.push(exponential_sample(&mut values, 1001));
        for sample in samples {
            let (mut counted, mut copied) = (SplitMix64::new(17), SplitMix64::new(17));
            let mut resampler = Resampler::new(&sample);
            let mut buffer = vec![0.0; sample.len()];
            for _ in 0..200 {
                let by_counting = resampler.resample_median(&mut counted);
                for slot in buffer.iter_mut() {
                    *slot = sample[copied.below(sample.len())];
                }
                assert_eq!(by_counting.to_bits(), median_in_place(&mut buffer).to_bits(), "{sample:?}");
            }
        }
    }

    #[test]
    fn seed_is_fnv1a_64() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(seed_for(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(seed_for("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(seed_for("foobar"), 0x8594_4171_f739_67e8);
        assert_ne!(seed_for("seed/0/rust/wall"), seed_for("seed/0/rust/cpu"));
    }

    #[test]
    fn quantiles_of_the_finite_values() {
        let values = [4.0, f64::NAN, 1.0, 3.0, 2.0, f64::INFINITY];
        assert_eq!(quantile(&values, 0.0), Some(1.0));
        assert_eq!(quantile(&values, 0.5), Some(2.5));
        assert_eq!(quantile(&values, 1.0), Some(4.0));
        assert_eq!(quantile(&values, 0.1), Some(1.3));
        assert_eq!(quantile(&[f64::NAN], 0.5), None);
        assert_eq!(quantile(&[], 0.01), None);
    }

    #[test]
    fn medians_by_hand() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0)); // sorted 1 2 3
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5)); // sorted 1 2 | 3 4 → (2 + 3)/2
        assert_eq!(median(&[10.0, 1.0, 7.0, 7.0, 2.0, 9.0]), Some(7.0)); // 1 2 7 | 7 9 10
        assert_eq!(median(&[5.0, -1.0, 8.0, 0.5]), Some(2.75)); // -1 0.5 | 5 8 → (0.5 + 5)/2
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[1.0, 2.0]), Some(1.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn mads_by_hand() {
        // Median 3; |deviations| 2 1 0 1 97 → sorted 0 1 1 2 97 → 1. The 100 does not move it.
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some(1.0));
        // Median 2.5; |deviations| 1.5 0.5 0.5 1.5 → (0.5 + 1.5)/2 = 1.
        assert_eq!(mad(&[4.0, 1.0, 3.0, 2.0]), Some(1.0));
        // Median 5; |deviations| 3 0 1 5 0 → sorted 0 0 1 3 5 → 1.
        assert_eq!(mad(&[2.0, 5.0, 6.0, 10.0, 5.0]), Some(1.0));
        assert_eq!(mad(&[4.0]), Some(0.0));
        assert_eq!(mad(&[]), None);
    }

    #[test]
    fn outliers_by_hand() {
        // Median 12, MAD 1 (|deviations| 2 1 0 1 88 → 0 1 1 2 88). z(100) = 0.6745·88 = 59.4;
        // z(10) = 0.6745·2 = 1.35.
        assert_eq!(outliers(&[10.0, 11.0, 12.0, 13.0, 100.0]), vec![4]);
        assert_eq!(outliers(&[100.0, 11.0, 12.0, 13.0, -80.0]), vec![0, 4]);
        // The threshold: with median 12 and MAD 1 a value is out beyond 12 ± 3.5/0.6745 = 12 ± 5.189.
        // 17.1 gives z = 0.6745·5.1 = 3.44, in; 17.3 gives 0.6745·5.3 = 3.575, out.
        assert_eq!(outliers(&[10.0, 11.0, 12.0, 13.0, 17.1]), Vec::<usize>::new());
        assert_eq!(outliers(&[10.0, 11.0, 12.0, 13.0, 17.3]), vec![4]);
        // MAD 0 (five of six equal): MeanAD about the median 5 is 4/6, so z(9) = 4/(1.253314·0.6667)
        // = 4.79, out.
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 5.0, 5.0, 9.0]), vec![5]);
        // Median (5 + 5)/2 = 5, MAD 0, MeanAD 2/6, so z(6) = 1/(1.253314·0.3333) = 2.39, in.
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 5.0, 6.0, 6.0]), Vec::<usize>::new());
        // Indices count non-finite entries, which are never outliers themselves.
        assert_eq!(outliers(&[f64::NAN, 10.0, 11.0, 12.0, 13.0, 100.0, f64::INFINITY]), vec![5]);
        assert_eq!(outliers(&[]), Vec::<usize>::new());
    }

    #[test]
    fn describe_a_known_sample() {
        // Mean 5; squared deviations 9 1 1 1 0 0 4 16 sum to 32, so sd = √(32/7).
        // Sorted 2 4 4 4 | 5 5 7 9: median 4.5; |deviations| 2.5 .5 .5 .5 .5 .5 2.5 4.5 → MAD 0.5.
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let d = describe(&values, 1).unwrap();
        assert_eq!(d.count, 8);
        assert_eq!(d.mean, 5.0);
        assert!((d.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12, "sd {}", d.sd);
        assert_eq!((d.min, d.max, d.median, d.mad), (2.0, 9.0, 4.5, 0.5));
        // 9 has z = 0.6745·4.5/0.5 = 6.07.
        assert_eq!(d.outliers, vec![7]);
        assert!(d.ci_low <= d.median && d.median <= d.ci_high, "{d:?}");
        assert!(d.ci_low >= 2.0 && d.ci_high <= 9.0, "{d:?}");
    }

    #[test]
    fn describe_ignores_non_finite_values() {
        let with_gaps = describe(&[f64::NAN, 2.0, f64::INFINITY, 4.0, 9.0, f64::NEG_INFINITY], 5).unwrap();
        let clean = describe(&[2.0, 4.0, 9.0], 5).unwrap();
        assert_eq!(with_gaps.count, 3);
        assert_eq!((with_gaps.median, with_gaps.mean, with_gaps.min, with_gaps.max), (4.0, 5.0, 2.0, 9.0));
        assert_eq!((with_gaps.ci_low, with_gaps.ci_high), (clean.ci_low, clean.ci_high));
        assert_eq!(describe(&[f64::NAN, f64::INFINITY], 5), None);
        assert_eq!(median(&[f64::NAN, 1.0, 3.0]), Some(2.0));
    }

    #[test]
    fn empty_single_and_constant_samples() {
        assert_eq!(describe(&[], 0), None);
        assert_eq!(bootstrap_median_ci(&[], 0.95, 100, 0), None);

        let one = describe(&[3.25], 0).unwrap();
        assert_eq!(
            one,
            Distribution {
                count: 1,
                median: 3.25,
                mean: 3.25,
                sd: 0.0,
                min: 3.25,
                max: 3.25,
                mad: 0.0,
                ci_low: 3.25,
                ci_high: 3.25,
                outliers: vec![]
            }
        );

        let constant = describe(&[2.5; 12], 9).unwrap();
        assert_eq!((constant.median, constant.sd, constant.mad), (2.5, 0.0, 0.0));
        assert_eq!((constant.ci_low, constant.ci_high), (2.5, 2.5));
        assert!(constant.outliers.is_empty());
    }

    #[test]
    fn bad_parameters_give_no_interval() {
        let values = [1.0, 2.0, 3.0];
        assert_eq!(bootstrap_median_ci(&values, 0.95, 0, 1), None);
        assert_eq!(bootstrap_median_ci(&values, 1.0, 100, 1), None);
        assert_eq!(bootstrap_median_ci(&values, 0.0, 100, 1), None);
        assert_eq!(ratio_of_medians_with(&values, &values, f64::NAN, 100, 1), None);
        assert_eq!(ratio_of_medians_with(&values, &values, 0.95, 0, 1), None);
    }

    #[test]
    fn intervals_are_deterministic_in_the_seed() {
        let mut rng = SplitMix64::new(11);
        let sample = exponential_sample(&mut rng, 30);
        let a = describe(&sample, seed_for("seed/0/rust/wall")).unwrap();
        let b = describe(&sample, seed_for("seed/0/rust/wall")).unwrap();
        let other = describe(&sample, seed_for("seed/0/rust/cpu")).unwrap();
        assert_eq!((a.ci_low.to_bits(), a.ci_high.to_bits()), (b.ci_low.to_bits(), b.ci_high.to_bits()));
        assert_ne!((a.ci_low, a.ci_high), (other.ci_low, other.ci_high));

        let baseline = exponential_sample(&mut rng, 30);
        let r1 = ratio_of_medians(&baseline, &sample, 77).unwrap();
        let r2 = ratio_of_medians(&baseline, &sample, 77).unwrap();
        let r3 = ratio_of_medians(&baseline, &sample, 78).unwrap();
        assert_eq!((r1.ci_low.to_bits(), r1.ci_high.to_bits()), (r2.ci_low.to_bits(), r2.ci_high.to_bits()));
        assert_ne!((r1.ci_low, r1.ci_high), (r3.ci_low, r3.ci_high));
    }

    #[test]
    fn percentiles_interpolate_linearly() {
        let sorted = [1.0, 2.0, 4.0, 8.0, 16.0];
        assert_eq!(percentile_of_sorted(&sorted, 0.0), 1.0);
        assert_eq!(percentile_of_sorted(&sorted, 1.0), 16.0);
        assert_eq!(percentile_of_sorted(&sorted, 0.5), 4.0);
        // h = 4·0.625 = 2.5, halfway between 4 and 8.
        assert_eq!(percentile_of_sorted(&sorted, 0.625), 6.0);
        // 0.95 over 0..=100: h = 100·0.025 = 2.5 and 100·0.975 = 97.5 (up to the rounding of
        // 1 − 0.95).
        let mut estimates: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let (low, high) = percentile_interval(&mut estimates, 0.95);
        assert!((low - 2.5).abs() < 1e-9 && (high - 97.5).abs() < 1e-9, "({low}, {high})");
        // Selection gives what the sort gives, bit for bit, ties and both zeros included.
        let mut rng = SplitMix64::new(8);
        for count in 1..60 {
            let values: Vec<f64> = (0..count).map(|_| [(rng.unit() * 6.0).floor(), -0.0, 0.0][rng.below(3)]).collect();
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            for p in [0.0, 0.025, 0.3, 0.5, 0.975, 1.0] {
                let selected = percentile_by_selection(&mut values.clone(), p);
                assert_eq!(selected.to_bits(), percentile_of_sorted(&sorted, p).to_bits(), "{values:?} at {p}");
            }
        }
    }

    /// The interval must do its job: for samples of 30 from a skewed distribution (exponential,
    /// median ln 2) the 95% interval should cover the true median in about 95% of samples. The
    /// width check pins the level, so neither a uselessly wide interval nor one at the wrong
    /// confidence passes: the sample median's sd is about 1/(2·f(median)·√30) = 0.183 here
    /// (f(ln 2) = 1/2), so a 95% interval is about 2·1.96·0.183 = 0.72 wide, a 90% one 0.60 and a
    /// 99% one 0.94.
    #[test]
    fn median_interval_covers_the_true_median() {
        let trials = 400;
        let resamples = 2_000;
        let true_median = std::f64::consts::LN_2;
        let mut rng = SplitMix64::new(2024);
        let mut covered = 0;
        let mut total_width = 0.0;
        for trial in 0..trials {
            let sample = exponential_sample(&mut rng, 30);
            let (low, high) = bootstrap_median_ci(&sample, CONFIDENCE, resamples, trial).unwrap();
            covered += usize::from(low <= true_median && true_median <= high);
            total_width += high - low;
        }
        let coverage = covered as f64 / trials as f64;
        let mean_width = total_width / trials as f64;
        eprintln!("median CI coverage {coverage:.4} over {trials} trials, mean width {mean_width:.3}");
        assert!(coverage >= 0.90, "coverage {coverage}");
        assert!((0.65..0.80).contains(&mean_width), "mean width {mean_width}");
    }

    #[test]
    fn ratio_estimate_is_the_ratio_of_medians() {
        // Medians 6 and 2.5 ((2 + 3)/2), so exactly 2.4.
        let numerator = [6.0, 1.0, 9.0];
        let denominator = [3.0, 2.0, 1.0, 4.0];
        let ratio = ratio_of_medians(&numerator, &denominator, 3).unwrap();
        assert_eq!(ratio.estimate, 2.4);
        assert!(ratio.ci_low <= ratio.ci_high);
    }

    /// Timings look more like a lognormal than an exponential: a floor with a right tail of a
    /// few percent. Median 1, since the median of σ·Z is 0.
    fn lognormal_sample(rng: &mut SplitMix64, count: usize, sigma: f64) -> Vec<f64> {
        (0..count).map(|_| (sigma * rng.normal()).exp()).collect()
    }

    /// Numerator 1.5·LogNormal(0, 0.2²), denominator LogNormal(0, 0.2²), drawn independently: the
    /// true ratio of medians is exactly 1.5. The interval should cover it in about 95% of trials,
    /// and exclude 1 every time (the log-ratio 0.405 is about six standard errors of the
    /// estimate's log from 0, so a miss would mean the interval is far too wide).
    #[test]
    fn ratio_interval_covers_the_true_ratio() {
        let trials = 200;
        let resamples = 2_000;
        let factor = 1.5;
        let mut rng = SplitMix64::new(99);
        let mut covered = 0;
        for trial in 0..trials {
            let slow: Vec<f64> = lognormal_sample(&mut rng, 30, 0.2).iter().map(|v| factor * v).collect();
            let fast = lognormal_sample(&mut rng, 30, 0.2);
            let ratio = ratio_of_medians_with(&slow, &fast, CONFIDENCE, resamples, trial).unwrap();
            assert_eq!(ratio.estimate, median(&slow).unwrap() / median(&fast).unwrap());
            assert!(excludes(&ratio, 1.0), "trial {trial}: {ratio:?}");
            covered += usize::from(!excludes(&ratio, factor));
        }
        let coverage = covered as f64 / trials as f64;
        eprintln!("ratio CI coverage {coverage:.4} over {trials} trials");
        assert!(coverage >= 0.90, "coverage {coverage}");
    }

    #[test]
    fn same_distribution_usually_includes_one() {
        let mut rng = SplitMix64::new(5);
        let old = lognormal_sample(&mut rng, 30, 0.2);
        let new = lognormal_sample(&mut rng, 30, 0.2);
        let ratio = ratio_of_medians(&new, &old, 1).unwrap();
        assert!(!excludes(&ratio, 1.0), "{ratio:?}");
    }

    #[test]
    fn ratio_refuses_empty_or_zero_denominators() {
        let times = [1.0, 2.0, 3.0];
        assert_eq!(ratio_of_medians(&[], &times, 0), None);
        assert_eq!(ratio_of_medians(&times, &[], 0), None);
        assert_eq!(ratio_of_medians(&times, &[f64::NAN], 0), None);
        assert_eq!(ratio_of_medians(&times, &[0.0, 0.0, 0.0, 1.0, 1.0], 0), None); // median 0
                                                                                   // Median 1, but a resample of five draws with at least three zeros (chance 0.32) has median
                                                                                   // 0: far more than a tenth would be dropped.
        assert_eq!(ratio_of_medians(&times, &[0.0, 0.0, 1.0, 1.0, 1.0], 0), None);
        // One zero in eleven: a zero median needs six zeros in eleven draws (chance ≈ 1e-5), so
        // almost nothing is dropped.
        let mostly_nonzero = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let ratio = ratio_of_medians(&times, &mostly_nonzero, 0).unwrap();
        assert_eq!(ratio.estimate, 2.0);
    }
}
