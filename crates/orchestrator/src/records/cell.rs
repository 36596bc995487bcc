//! Text cells of the CSV files the tool writes (raw.csv, samples.csv, summary.csv), kept from
//! being read as formulas: a spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return (`=HYPERLINK(…)` from a child's `device` field would be a link to click) —
//! after leading spaces too, and in their full-width forms (`＝`, `＋`, `－`, `＠`), which some
//! spreadsheets in East Asian locales take for the same. Such
//! a cell is written with a single quote in front, as spreadsheets themselves do, and read back
//! without it, so raw.csv still gives back exactly what was measured. Numbers are numbers, not
//! text: a text cell that is a finite number (`-0.5`) is left alone, and numeric columns are never
//! touched.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serializer};

/// What a spreadsheet takes for the start of a formula (after any spaces).
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
const GUARD: char = '\'';

/// Whether `text`, after any leading spaces, starts as a formula does.
fn starts_like_formula(text: &str) -> bool {
    text.trim_start_matches(' ').starts_with(FORMULA_STARTS)
}

/// Whether `text` needs the guard: it starts like a formula and is not a number, or it starts with
/// the guard before what [`unguard`] would strip (so that reading it back gives it unchanged).
fn needs_guard(text: &str) -> bool {
    let formula = starts_like_formula(text) && !text.parse::<f64>().is_ok_and(f64::is_finite);
    formula || text.strip_prefix(GUARD).is_some_and(|rest| starts_like_formula(rest) || rest.starts_with(GUARD))
}

/// The cell `text` is written as.
pub(crate) fn guard(text: &str) -> Cow<'_, str> {
    if needs_guard(text) {
        Cow::Owned(format!("{GUARD}{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text a cell written by [`guard`] holds.
pub(crate) fn unguard(cell: &str) -> &str {
    match cell.strip_prefix(GUARD) {
        Some(rest) if starts_like_formula(rest) || rest.starts_with(GUARD) => rest,
        _ => cell,
    }
}

/// `#[serde(serialize_with = "cell::serialize")]` on a text field written to a CSV file.
pub(crate) fn serialize<T: AsRef<str> + ?Sized, S: Serializer>(text: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&guard(text.as_ref()))
}

/// The same for an optional text field (empty when None).
pub(crate) fn serialize_optional<T: AsRef<str>, S: Serializer>(text: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(text) => serializer.serialize_some(&*guard(text.as_ref())),
        None => serializer.serialize_none(),
    }
}

/// `#[serde(deserialize_with = "cell::deserialize")]` on a text field read back from a CSV file.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let cell = String::deserialize(deserializer)?;
    Ok(match unguard(&cell) {
        text if text.len() == cell.len() => cell,
        text => text.to_owned(),
    })
}

pub(crate) fn deserialize_optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(|cell| unguard(&cell).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_numbers_are_not_and_every_text_comes_back() {
        for (text, cell) in [
            ("=HYPERLINK(\"http://evil.example/?x\",\"click\")", "'=HYPERLINK(\"http://evil.example/?x\",\"click\")"),
            ("+1+2", "'+1+2"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-inf", "'-inf"),
            ("'=x", "''=x"),
            ("  =1+1", "'  =1+1"),
            ("＝HYPERLINK(\"http://evil.example\")", "'＝HYPERLINK(\"http://evil.example\")"),
            ("＋1", "'＋1"),
            ("－1", "'－1"),
            ("＠x", "'＠x"),
            ("' =x", "'' =x"),
            ("a =b", "a =b"),
            (" ", " "),
            ("''", "'''"),
            ("-0.5", "-0.5"),
            ("+3e-7", "+3e-7"),
            ("cpu:0", "cpu:0"),
            ("'quoted'", "'quoted'"),
            ("'", "'"),
            ("", ""),
        ] {
            assert_eq!(guard(text), cell, "{text:?}");
            assert_eq!(unguard(cell), text, "{cell:?}");
        }
    }

    proptest::proptest! {
        /// Any text comes back as it was written, and what is written never starts as a formula
        /// unless it is a finite number.
        #[test]
        fn every_text_comes_back_and_no_cell_starts_a_formula(text in "[ '=+\\-@\t\r＝＋－＠a0-9.e]{0,8}") {
            let cell = guard(&text);
            proptest::prop_assert_eq!(unguard(&cell), text.as_str());
            proptest::prop_assert!(!starts_like_formula(&cell) || cell.parse::<f64>().is_ok_and(f64::is_finite), "{:?}", cell);
        }
    }
}
