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

/// "1.23 ms [1.20–1.31]" — the median and its 95% CI, in the median's unit.
pub fn seconds_with_ci(d: &Distribution) -> String {
    format!("{} [{}–{}]", seconds(d.median), seconds(d.ci_low), seconds(d.ci_high))
}

/// "98.4× [91.0–105×]".
pub fn ratio_with_ci(r: &Ratio) -> String {
    format!("{}× [{}–{}×]", sig3(r.estimate), sig3(r.ci_low), sig3(r.ci_high))
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

/// A float with its full precision trimmed to 12 significant digits, for fitted parameters.
pub fn parameter(v: Option<f64>) -> String {
    match v {
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
        assert_eq!(count(5), "5");
        assert_eq!(count(250_000), "250 000");
        assert_eq!(percent(0.973), "97%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(parameter(Some(1.9951803506719779)), "1.995180350672");
        assert_eq!(parameter(None), "—");
    }
}
