//! Every human-readable number the orchestrator writes, defined once: durations, bytes, counts,
//! percentages, ratios with their CIs (two styles, both named below), fitted parameters, claim
//! bounds, and the value and tick labels of the charts. It takes plain numbers, or a statistics
//! [`Ratio`], and depends on nothing else in the crate, so every stage may use it.

use crate::stats::Ratio;

/// "850 µs", "1.23 ms", "112 ms", "1.52 s": three significant figures.
pub(crate) fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return "—".into();
    }
    let (value, unit) = match s.abs() {
        a if a >= 1.0 => (s, "s"),
        a if a >= 1e-3 => (s * 1e3, "ms"),
        a if a >= 1e-6 => (s * 1e6, "µs"),
        _ => (s * 1e9, "ns"),
    };
    format!("{} {unit}", sig3(value))
}

/// The most characters a number takes written as Rust writes it ("0.01", "1000",
/// "0.30000000000000004"); beyond, it is written with an exponent instead.
const PLAIN_NUMBER_MAX_CHARS: usize = 20;

/// A value exactly, as in a point's label ("lr=0.01"), a message or a file name: Rust's shortest
/// text that reads back as the same value, "1e308" and "5e-324" rather than 309 digits or 326
/// characters. Every value that takes at most 20 characters is written as it always was, so
/// labels compared across runs do not change; distinct values are written differently.
pub(crate) fn number(v: f64) -> String {
    let plain = v.to_string();
    if plain.len() <= PLAIN_NUMBER_MAX_CHARS {
        plain
    } else {
        format!("{v:e}")
    }
}

/// "+1.20 ms", "−850 µs": what a step adds, with its sign (a true minus sign).
pub(crate) fn signed_seconds(s: f64) -> String {
    if s < 0.0 {
        format!("−{}", seconds(-s))
    } else {
        format!("+{}", seconds(s))
    }
}

/// A machine's memory as environment.json keeps it: 0 where /proc/meminfo could not be read.
pub(crate) fn memory_total(b: u64) -> String {
    if b == 0 {
        "not known".into()
    } else {
        bytes(b as f64)
    }
}

/// "1.9 MiB", "312 MiB", "1.52 GiB".
pub(crate) fn bytes(b: f64) -> String {
    if !b.is_finite() {
        return "—".into();
    }
    const MIB: f64 = 1024.0 * 1024.0;
    if b.abs() >= 1024.0 * MIB {
        format!("{} GiB", sig3(b / (1024.0 * MIB)))
    } else if b.abs() >= MIB / 10.0 {
        format!("{} MiB", sig3(b / MIB))
    } else {
        format!("{} KiB", sig3(b / 1024.0))
    }
}

/// Numbers at or beyond these magnitudes are written in scientific form ("1.00e300", "2.50e-7"):
/// nothing measured is that large or small, but a hand-edited raw.csv can say so, and 301 digits
/// or "0.000" would hide what it says.
const SCIENTIFIC_FROM: f64 = 1e6;
const SCIENTIFIC_BELOW: f64 = 1e-3;

fn is_absurd(v: f64) -> bool {
    let magnitude = v.abs();
    magnitude >= SCIENTIFIC_FROM || (magnitude > 0.0 && magnitude < SCIENTIFIC_BELOW)
}

/// Three significant figures, no exponent for ordinary ratios (an absurd magnitude in
/// scientific form).
pub(crate) fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs();
    if is_absurd(v) {
        format!("{v:.2e}")
    } else if magnitude >= 100.0 {
        format!("{v:.0}")
    } else if magnitude >= 10.0 {
        format!("{v:.1}")
    } else if magnitude >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// "1.23 ms [1.20–1.31]" — a median and its 95% CI, the unit written once when all three share
/// it ("998 µs [990 µs–1.01 ms]" when they do not).
pub(crate) fn seconds_with_ci(median: f64, ci_low: f64, ci_high: f64) -> String {
    let [median, low, high] = [median, ci_low, ci_high].map(seconds);
    let unit = |text: &str| text.rsplit(' ').next().unwrap_or("").to_string();
    if unit(&low) == unit(&median) && unit(&high) == unit(&median) {
        let number = |text: &str| text.rsplit_once(' ').map_or(text.to_string(), |(n, _)| n.to_string());
        format!("{median} [{}–{}]", number(&low), number(&high))
    } else {
        format!("{median} [{low}–{high}]")
    }
}

/// A ratio with its CI for a table cell: "98.4× [91.0–105]".
pub(crate) fn ratio_with_ci_in_brackets(r: &Ratio) -> String {
    format!("{}× [{}–{}]", sig3(r.estimate), sig3(r.ci_low), sig3(r.ci_high))
}

/// A ratio with its CI in a sentence, `word` (if any) after the ratio: "44.5× faster (95% CI
/// 43.6–45.8×)", and with no word "106× (95% CI 98.2–112×)".
pub(crate) fn ratio_with_ci_in_words(r: &Ratio, word: &str) -> String {
    let word = if word.is_empty() { String::new() } else { format!(" {word}") };
    format!("{}×{word} (95% CI {}–{}×)", sig3(r.estimate), sig3(r.ci_low), sig3(r.ci_high))
}

/// A ratio new/old as a signed change with its CI: "+3.2% [+1.0%, +5.5%]".
pub(crate) fn change_with_ci(r: &Ratio) -> String {
    let change = |ratio: f64| {
        let percent = (ratio - 1.0) * 100.0;
        if percent.abs() >= SCIENTIFIC_FROM {
            format!("{percent:+.2e}%")
        } else {
            format!("{percent:+.1}%")
        }
    };
    format!("{} [{}, {}]", change(r.estimate), change(r.ci_low), change(r.ci_high))
}

/// "10^7" for powers of ten, else the number with thin grouping: "250 000".
pub(crate) fn count(n: u64) -> String {
    if n >= 1000 && n.to_string().trim_start_matches('1').chars().all(|c| c == '0') {
        return format!("10^{}", n.to_string().len() - 1);
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A percentage with no more precision than it deserves: "97%", "4.2%", "0.31%" (and "0%", never
/// "-0%").
pub(crate) fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "—".into();
    }
    // + 0.0 turns −0 into 0.
    let p = fraction * 100.0 + 0.0;
    if is_absurd(p) {
        format!("{p:.2e}%")
    } else if p.abs() >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{}%", trim_zeros(&sig3(p)))
    }
}

/// [`percent`], with as many more decimals (up to three) as it takes not to read as `mark` when it
/// is not: a median run at 89.6% of the limit set against a 90% target reads "89.6%", not "90%".
pub(crate) fn percent_against(fraction: f64, mark: f64) -> String {
    let plain = percent(fraction);
    if fraction == mark || plain != percent(mark) || !fraction.is_finite() || is_absurd(fraction * 100.0) {
        return plain;
    }
    let (p, m) = (fraction * 100.0 + 0.0, mark * 100.0);
    for decimals in 1..=3 {
        let (this, that) = (format!("{p:.decimals$}%"), format!("{m:.decimals$}%"));
        if this != that {
            return this;
        }
    }
    plain
}

/// "2.50" → "2.5", "3.00" → "3"; a number in scientific form ("1.00e10") is left as it is.
fn trim_zeros(number: &str) -> &str {
    if number.contains('.') && !number.contains('e') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// A percentage with its sign, written once: "+5%", "-2.5%", "+0%".
pub(crate) fn signed_percent(fraction: f64) -> String {
    let sign = if fraction < 0.0 { "-" } else { "+" };
    format!("{sign}{}", percent(fraction.abs()))
}

/// Parameters at or beyond this magnitude (a diverged fit's, say) are written in scientific form.
const PARAMETER_SCIENTIFIC_ABOVE: f64 = 1e6;

/// A float with 12 decimals, trailing zeros trimmed, for fitted parameters; a huge one (a diverged
/// fit's) in scientific form, "1.319e304", not as 305 digits.
pub(crate) fn parameter(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() && v.abs() >= PARAMETER_SCIENTIFIC_ABOVE => format!("{v:.3e}"),
        Some(v) if v.is_finite() => format!("{v:.12}").trim_end_matches('0').trim_end_matches('.').to_string(),
        Some(v) => format!("{v}"),
        None => "—".into(),
    }
}

/// A fitted parameter in a few characters: "1.9952", "0.0174", "-1.319e304".
pub(crate) fn four_decimals(v: f64) -> String {
    if v.abs() >= PARAMETER_SCIENTIFIC_ABOVE {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// A small error or distance in scientific form, "1.23e-7"; "—" when unknown.
pub(crate) fn scientific(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.2e}"))
}

/// At most three decimals, trailing zeros trimmed: "0.3", "15", "2.125"; an absurd magnitude with
/// an exponent, "1e308" rather than 309 digits, "2.5e-7" rather than "0".
fn three_decimals_trimmed(v: f64) -> String {
    if v.abs() >= 1e15 || (v != 0.0 && v.abs() < 5e-4) {
        let text = format!("{v:.3e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    trim_zeros(&format!("{v:.3}")).to_string()
}

/// A claim's bounds with their unit: "3–6×", "0.3–0.8 ms", "at least 30 MB", "at most 6×".
pub(crate) fn bounds(at_least: Option<f64>, at_most: Option<f64>, unit: &str) -> String {
    match (at_least, at_most) {
        (Some(lo), Some(hi)) => format!("{}–{}{unit}", three_decimals_trimmed(lo), three_decimals_trimmed(hi)),
        (Some(lo), None) => format!("at least {}{unit}", three_decimals_trimmed(lo)),
        (None, Some(hi)) => format!("at most {}{unit}", three_decimals_trimmed(hi)),
        (None, None) => format!("any{unit}"),
    }
}

/// How a number is written on a chart's axis or value label, in human units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Seconds, written as s, ms, µs or ns, whichever reads best.
    Seconds,
    /// Bytes, written in binary units: B, KiB, MiB, GiB, TiB.
    Bytes,
    /// A percentage already scaled to 0–100.
    Percent,
    /// A bare number; 10 000 and above shortened to k, M, G.
    Plain,
}

impl ValueFormat {
    /// The divisor and suffix of the unit that suits a value of this magnitude.
    pub(crate) fn unit(self, magnitude: f64) -> (f64, &'static str) {
        // A hair of tolerance so that 1e-6 computed as 0.999…e-6 still reads "1 µs", not "1000 ns".
        let m = magnitude.abs() * (1.0 + 1e-9);
        const KIB: f64 = 1024.0;
        match self {
            Self::Seconds if m >= 1.0 => (1.0, " s"),
            Self::Seconds if m >= 1e-3 => (1e-3, " ms"),
            Self::Seconds if m >= 1e-6 => (1e-6, " µs"),
            Self::Seconds => (1e-9, " ns"),
            Self::Bytes if m >= KIB.powi(4) => (KIB.powi(4), " TiB"),
            Self::Bytes if m >= KIB.powi(3) => (KIB.powi(3), " GiB"),
            Self::Bytes if m >= KIB.powi(2) => (KIB.powi(2), " MiB"),
            Self::Bytes if m >= KIB => (KIB, " KiB"),
            Self::Bytes => (1.0, " B"),
            Self::Percent => (1.0, "%"),
            Self::Plain if m >= 1e9 => (1e9, "G"),
            Self::Plain if m >= 1e6 => (1e6, "M"),
            Self::Plain if m >= 1e4 => (1e3, "k"),
            Self::Plain => (1.0, ""),
        }
    }

    /// A value label with three significant digits in the value's own unit: "1.02 ms", "110 ms", "28.6 MiB".
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "n/a".to_string();
        }
        if value == 0.0 {
            return "0".to_string();
        }
        let (divisor, suffix) = self.unit(value);
        format!("{}{suffix}", significant_digits(value / divisor, 3))
    }

    /// A tick label: as few digits as the value needs, in its own unit: "1 ms", "2.5 ms", "10M".
    pub(crate) fn format_short(self, value: f64) -> String {
        if value == 0.0 {
            return "0".to_string();
        }
        let (divisor, suffix) = self.unit(value);
        if (value / divisor).abs() < 0.01 {
            // Too small for two decimals (distances from an optimum, say): 1e-3, 2.5e-7.
            let text = format!("{:.1e}", value / divisor).replace(".0e", "e");
            return format!("{text}{suffix}");
        }
        if (value / divisor).abs() >= SCIENTIFIC_FROM {
            return format!("{:.1e}{suffix}", value / divisor);
        }
        let digits = format!("{:.2}", value / divisor);
        format!("{}{suffix}", trim_zeros(&digits))
    }
}

fn significant_digits(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    // In its unit, a label's value is between 1 and 1000 (a chart's small distances, 1e-7, are
    // written out): only what no run measures is written in scientific form.
    if !(-9..9).contains(&magnitude) {
        let decimals = (digits - 1).max(0) as usize;
        return format!("{value:.decimals$e}");
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{value:.decimals$}")
}

/// 16 KiB, 1.41 MiB, 512 MiB: binary units without trailing zeros.
pub(crate) fn bytes_compact(bytes: f64) -> String {
    let text = ValueFormat::Bytes.format(bytes);
    match text.split_once(' ') {
        Some((number, unit)) => format!("{} {unit}", trim_zeros(number)),
        None => text,
    }
}

/// 0.05, 0.3, 2, 10, 10k, 1M: as few digits as a tick needs.
pub(crate) fn compact(value: f64) -> String {
    let text = ValueFormat::Plain.format(value);
    // The suffix (k, M, G) is the letters at the end; an exponent's "e" is followed by digits.
    let split = text.rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
    let (number, suffix) = text.split_at(split);
    format!("{}{suffix}", trim_zeros(number))
}

/// "45s", "3m 20s", "1h 05m": what a progress bar shows.
pub(crate) fn duration_words(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    match total {
        0..60 => format!("{total}s"),
        60..3600 => format!("{}m {:02}s", total / 60, total % 60),
        _ => format!("{}h {:02}m", total / 3600, total % 3600 / 60),
    }
}

/// A bandwidth in GB/s with one decimal: "91.3 GB/s".
pub(crate) fn gigabytes_per_second(bytes_per_second: f64) -> String {
    format!("{:.1} GB/s", bytes_per_second / 1e9)
}

/// A compute rate in whole GFLOP/s: "203 GFLOP/s".
pub(crate) fn gigaflops(flops_per_second: f64) -> String {
    format!("{:.0} GFLOP/s", flops_per_second / 1e9)
}

/// A duration of seconds with one decimal, for what takes seconds: "3.5 s".
pub(crate) fn seconds_one_decimal(s: f64) -> String {
    format!("{s:.1} s")
}

/// A load average as the kernel shows it: "1.32".
pub(crate) fn load_average(load: f64) -> String {
    format!("{load:.2}")
}

/// A count of something, in the singular for one: "1 thread", "2 threads".
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "1 thread", "2 threads".
pub(crate) fn threads(n: u64) -> String {
    counted(n, "thread", "threads")
}

/// "2 threads did 1.02× one thread's arithmetic": a compute probe's all-threads rate over its
/// one thread's, as the terminal and the report both say it.
pub(crate) fn threads_did(threads: usize, multiple: f64) -> String {
    format!("{} did {}× one thread's arithmetic", self::threads(threads as u64), sig3(multiple))
}

/// A median of counts, rounded to a whole number: "2637".
pub(crate) fn whole(v: f64) -> String {
    format!("{v:.0}")
}

/// A share rounded to a whole percent, "<1%" below half a percent: a label on a bar.
pub(crate) fn whole_percent(percent: f64) -> String {
    if percent < 0.5 {
        "<1%".to_string()
    } else {
        format!("{percent:.0}%")
    }
}

/// A fitted parameter exactly enough to compare bits (12 decimals) and how far it is from a wanted
/// value: "1.995180350672 (off by 4.820e-3)".
pub(crate) fn parameter_off_by(got: f64, want: f64) -> String {
    format!("{got:.12} (off by {:.3e})", (got - want).abs())
}

/// `text` quoted for a message: its first `max_chars` characters, escaped ('n=5\tx'), and how
/// long it is when that cuts it ('n=5 …' (2000000 characters)). For names and labels read from a
/// file anyone can edit.
pub(crate) fn quoted_start(text: &str, max_chars: usize) -> String {
    let length = text.chars().count();
    let start = text.chars().take(max_chars).collect::<String>().escape_debug().to_string();
    if length > max_chars {
        format!("'{start}…' ({length} characters)")
    } else {
        format!("'{start}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_exactly_and_compactly() {
        // As Rust writes them, as point labels always had them.
        for (v, text) in
            [(0.01, "0.01"), (1000.0, "1000"), (0.1 + 0.2, "0.30000000000000004"), (1e-7, "0.0000001"), (-2.5, "-2.5"), (0.0, "0")]
        {
            assert_eq!(number(v), text);
        }
        // Beyond 20 characters, with an exponent.
        for (v, text) in [(1e308, "1e308"), (5e-324, "5e-324"), (1e-300, "1e-300"), (-f64::MAX, "-1.7976931348623157e308"), (1e20, "1e20")]
        {
            assert_eq!(number(v), text);
            assert_eq!(text.parse::<f64>(), Ok(v), "reads back");
        }
    }

    #[test]
    fn seconds_take_the_unit_that_fits() {
        assert_eq!(seconds(0.000_85), "850 µs");
        assert_eq!(seconds(0.001_234), "1.23 ms");
        assert_eq!(seconds(0.112), "112 ms");
        assert_eq!(seconds(1.524), "1.52 s");
        assert_eq!(seconds(2.5e-8), "25.0 ns");
        assert_eq!(seconds(f64::NAN), "—");
    }

    #[test]
    fn signed_seconds_carry_their_sign() {
        assert_eq!(signed_seconds(0.0012), "+1.20 ms");
        assert_eq!(signed_seconds(-0.000_85), "−850 µs");
    }

    #[test]
    fn bytes_are_binary() {
        assert_eq!(bytes(1_992_294.0), "1.90 MiB");
        assert_eq!(bytes(31_457_280.0), "30.0 MiB");
        assert_eq!(bytes(10_240.0), "10.0 KiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.50 GiB");
        assert_eq!(bytes(f64::INFINITY), "—");
    }

    #[test]
    fn three_significant_figures() {
        assert_eq!(sig3(106.4), "106");
        assert_eq!(sig3(44.53), "44.5");
        assert_eq!(sig3(1.995), "2.00");
        assert_eq!(sig3(0.012_34), "0.012");
        assert_eq!(sig3(f64::NAN), "NaN");
        assert_eq!(sig3(0.0), "0.000");
    }

    #[test]
    fn absurd_magnitudes_are_written_in_scientific_form() {
        assert_eq!(sig3(1e300), "1.00e300");
        assert_eq!(sig3(-2.5e-301), "-2.50e-301");
        assert_eq!(seconds(1e300), "1.00e300 s");
        assert_eq!(percent(1e10), "1.00e12%");
        assert_eq!(percent(2.5e-12), "2.50e-10%");
        assert_eq!(change_with_ci(&Ratio { estimate: 1e10, ci_low: 1e10, ci_high: 1e10 }), "+1.00e12% [+1.00e12%, +1.00e12%]");
        assert_eq!(ValueFormat::Seconds.format(1e300), "1.00e300 s");
        assert_eq!(ValueFormat::Seconds.format_short(1e300), "1.0e300 s");
        assert_eq!(bytes_compact(1.1e25), "1.00e13 TiB");
        assert_eq!(compact(1e300), "1.00e291G");
        assert_eq!(compact(2.5e4), "25k");
    }

    #[test]
    fn a_median_with_its_ci_writes_a_shared_unit_once() {
        assert_eq!(seconds_with_ci(1.8e-3, 1.78e-3, 1.83e-3), "1.80 ms [1.78–1.83]");
        assert_eq!(seconds_with_ci(998e-6, 990e-6, 1.01e-3), "998 µs [990 µs–1.01 ms]");
    }

    #[test]
    fn a_ratio_with_its_ci_in_either_style() {
        let ratio = |estimate, ci_low, ci_high| Ratio { estimate, ci_low, ci_high };
        assert_eq!(ratio_with_ci_in_brackets(&ratio(98.4, 91.0, 105.2)), "98.4× [91.0–105]");
        assert_eq!(ratio_with_ci_in_words(&ratio(106.4, 98.2, 112.0), ""), "106× (95% CI 98.2–112×)");
        assert_eq!(ratio_with_ci_in_words(&ratio(44.5, 43.6, 45.8), "faster"), "44.5× faster (95% CI 43.6–45.8×)");
        assert_eq!(change_with_ci(&ratio(1.032, 1.01, 1.055)), "+3.2% [+1.0%, +5.5%]");
        assert_eq!(change_with_ci(&ratio(0.9, 0.85, 0.95)), "-10.0% [-15.0%, -5.0%]");
    }

    #[test]
    fn a_count_of_one_is_singular() {
        assert_eq!(counted(1, "thread", "threads"), "1 thread");
        assert_eq!(counted(2, "thread", "threads"), "2 threads");
        assert_eq!(counted(0, "logical CPU", "logical CPUs"), "0 logical CPUs");
    }

    #[test]
    fn counts_group_their_digits_or_show_a_power_of_ten() {
        assert_eq!(count(10_000_000), "10^7");
        assert_eq!(count(5), "5");
        assert_eq!(count(250_000), "250 000");
        assert_eq!(count(1000), "10^3");
    }

    #[test]
    fn percentages_keep_the_precision_they_deserve() {
        assert_eq!(percent(0.973), "97%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(percent(0.0031), "0.31%");
        assert_eq!(percent(f64::NAN), "—");
        assert_eq!(percent(-0.0), "0%");
        assert_eq!(percent_against(0.896, 0.90), "89.6%", "not the mark it falls short of");
        assert_eq!(percent_against(0.89996, 0.90), "89.996%");
        assert_eq!(percent_against(0.904, 0.90), "90.4%");
        assert_eq!(percent_against(0.90, 0.90), "90%");
        assert_eq!(percent_against(0.873, 0.90), "87%", "plain where it cannot be taken for the mark");
        assert_eq!(signed_percent(0.05), "+5%");
        assert_eq!(signed_percent(-0.025), "-2.5%");
        assert_eq!(signed_percent(-0.0), "+0%");
    }

    #[test]
    fn parameters_are_written_in_full_or_in_scientific_form() {
        assert_eq!(parameter(Some(1.9951803506719779)), "1.995180350672");
        assert_eq!(parameter(None), "—");
        assert_eq!(parameter(Some(-1.3189e304)), "-1.319e304");
        assert_eq!(parameter(Some(123_456.5)), "123456.5");
        assert_eq!(four_decimals(1.995_18), "1.9952");
        assert_eq!(four_decimals(-1.3189e304), "-1.319e304");
        assert_eq!(scientific(Some(1.234e-7)), "1.23e-7");
        assert_eq!(scientific(None), "—");
    }

    #[test]
    fn bounds_in_words() {
        assert_eq!(bounds(Some(3.0), Some(6.0), "×"), "3–6×");
        assert_eq!(bounds(Some(0.3), Some(0.8), " ms"), "0.3–0.8 ms");
        assert_eq!(bounds(Some(15.0), None, "×"), "at least 15×");
        assert_eq!(bounds(None, Some(2.125), " MB"), "at most 2.125 MB");
        assert_eq!(bounds(None, None, "×"), "any×");
        assert_eq!(bounds(Some(1e308), Some(2.5e-7), "×"), "1e308–2.5e-7×", "not 309 digits, not 0");
        assert_eq!(bounds(Some(0.001), Some(1e14), " ms"), "0.001–100000000000000 ms");
    }

    #[test]
    fn chart_values_are_written_in_human_units() {
        assert_eq!(ValueFormat::Seconds.format(1.0e-3), "1.00 ms");
        assert_eq!(ValueFormat::Seconds.format(0.110), "110 ms");
        assert_eq!(ValueFormat::Seconds.format(2.5e-6), "2.50 µs");
        assert_eq!(ValueFormat::Seconds.format(66.0), "66.0 s");
        assert_eq!(ValueFormat::Bytes.format(30.0e6), "28.6 MiB");
        assert_eq!(ValueFormat::Bytes.format(512.0), "512 B");
        assert_eq!(ValueFormat::Percent.format(12.5), "12.5%");
        assert_eq!(ValueFormat::Plain.format(1e7), "10.0M");
        assert_eq!(ValueFormat::Plain.format(f64::NAN), "n/a");
        assert_eq!(ValueFormat::Plain.format(0.0), "0");
        assert_eq!(ValueFormat::Seconds.format_short(1e-6), "1 µs");
        assert_eq!(ValueFormat::Seconds.format_short(0.1), "100 ms");
        assert_eq!(ValueFormat::Plain.format_short(1e5), "100k");
        assert_eq!(ValueFormat::Plain.format_short(2.5e-7), "2.5e-7");
        assert_eq!(ValueFormat::Bytes.unit(3.0 * 1024.0 * 1024.0), (1024.0 * 1024.0, " MiB"));
    }

    #[test]
    fn compact_tick_labels() {
        assert_eq!(compact(0.05), "0.05");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(10_000.0), "10k");
        assert_eq!(bytes_compact(16384.0), "16 KiB");
        assert_eq!(bytes_compact(1.5 * 1048576.0), "1.5 MiB");
        assert_eq!(bytes_compact(64.0), "64 B");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(0.4), "0s");
        assert_eq!(duration_words(45.0), "45s");
        assert_eq!(duration_words(200.0), "3m 20s");
        assert_eq!(duration_words(3900.0), "1h 05m");
    }

    #[test]
    fn rates_loads_counts_and_exact_parameters() {
        assert_eq!(gigabytes_per_second(91.34e9), "91.3 GB/s");
        assert_eq!(gigaflops(203.4e9), "203 GFLOP/s");
        assert_eq!(seconds_one_decimal(3.46), "3.5 s");
        assert_eq!(load_average(1.3249), "1.32");
        assert_eq!(whole(2636.6), "2637");
        assert_eq!(whole_percent(0.4), "<1%");
        assert_eq!(whole_percent(66.5), "66%");
        assert_eq!(parameter_off_by(1.995180350672, 2.0), "1.995180350672 (off by 4.820e-3)");
    }
}
