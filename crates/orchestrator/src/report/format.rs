//! Numbers in words for people: durations with a unit that fits, bytes in MiB, ratios with their
//! CIs. Used by the Markdown report and the terminal summary alike.

use crate::stats::{Distribution, Ratio};

/// "850 µs", "1.23 ms", "112 ms", "1.52 s": three significant figures.
pub fn seconds(s: f64) -> String {
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

/// "1.9 MiB", "312 MiB", "1.52 GiB".
pub fn bytes(b: f64) -> String {
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

/// Three significant figures without an exponent for everyday magnitudes.
pub fn sig3(v: f64) -> String {
    crate::claims::sig3(v)
}

/// "1.23 ms [1.20–1.31]" — the median and its 95% CI, the unit written once when all three share
/// it ("998 µs [990 µs–1.01 ms]" when they do not).
pub fn seconds_with_ci(d: &Distribution) -> String {
    let [median, low, high] = [d.median, d.ci_low, d.ci_high].map(seconds);
    let unit = |text: &str| text.rsplit(' ').next().unwrap_or("").to_string();
    if unit(&low) == unit(&median) && unit(&high) == unit(&median) {
        let number = |text: &str| text.rsplit_once(' ').map_or(text.to_string(), |(n, _)| n.to_string());
        format!("{median} [{}–{}]", number(&low), number(&high))
    } else {
        format!("{median} [{low}–{high}]")
    }
}

/// "98.4× [91.0–105]".
pub fn ratio_with_ci(r: &Ratio) -> String {
    format!("{}× [{}–{}]", sig3(r.estimate), sig3(r.ci_low), sig3(r.ci_high))
}

/// "10^7" for powers of ten, else the number with thin grouping: "250 000".
pub fn count(n: u64) -> String {
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

/// A percentage with no more precision than it deserves: "97%", "4.2%", "0.31%".
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "—".into();
    }
    let p = fraction * 100.0;
    if p.abs() >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{}%", sig3(p).trim_end_matches('0').trim_end_matches('.'))
    }
}

/// Parameters at or beyond this magnitude (a diverged fit's, say) are written in scientific form.
const PARAMETER_SCIENTIFIC_ABOVE: f64 = 1e6;

/// A float with 12 decimals, trailing zeros trimmed, for fitted parameters; a huge one (a diverged
/// fit's) in scientific form, "1.319e304", not as 305 digits.
pub fn parameter(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() && v.abs() >= PARAMETER_SCIENTIFIC_ABOVE => format!("{v:.3e}"),
        Some(v) if v.is_finite() => format!("{v:.12}").trim_end_matches('0').trim_end_matches('.').to_string(),
        Some(v) => format!("{v}"),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_fit_the_magnitude() {
        assert_eq!(seconds(0.000_85), "850 µs");
        assert_eq!(seconds(0.001_234), "1.23 ms");
        assert_eq!(seconds(0.112), "112 ms");
        assert_eq!(seconds(1.524), "1.52 s");
        assert_eq!(bytes(1_992_294.0), "1.90 MiB");
        assert_eq!(bytes(31_457_280.0), "30.0 MiB");
        assert_eq!(bytes(10_240.0), "10.0 KiB");
        assert_eq!(count(10_000_000), "10^7");
        let d = |median, ci_low, ci_high| Distribution {
            count: 3,
            median,
            mean: median,
            sd: 0.0,
            min: ci_low,
            max: ci_high,
            mad: 0.0,
            ci_low,
            ci_high,
            outliers: Vec::new(),
        };
        assert_eq!(seconds_with_ci(&d(1.8e-3, 1.78e-3, 1.83e-3)), "1.80 ms [1.78–1.83]");
        assert_eq!(seconds_with_ci(&d(998e-6, 990e-6, 1.01e-3)), "998 µs [990 µs–1.01 ms]");
        assert_eq!(count(5), "5");
        assert_eq!(count(250_000), "250 000");
        assert_eq!(percent(0.973), "97%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(parameter(Some(1.9951803506719779)), "1.995180350672");
        assert_eq!(parameter(None), "—");
        assert_eq!(parameter(Some(-1.3189e304)), "-1.319e304");
        assert_eq!(parameter(Some(123_456.5)), "123456.5");
    }
}
