//! The `fits:` field of `training:` and of a sweep point: how many fits each run makes in one
//! process (`--fits K`, docs/protocol.md), written as one count for every implementation or as a
//! count per implementation, and how a point's counts follow from the scenario's and its own.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The most fits one run may ask for: the implementation keeps every fit's time (8 bytes each)
/// until it prints its statistics, and ten million fits of even the smallest fit take minutes.
pub(crate) const MAX_FITS: u64 = 10_000_000;

/// The most fits a run makes with --quick when `training: quick_fits` is left out: enough for a
/// first fit and nine warm ones, so every per-fit figure exists.
pub(crate) const DEFAULT_QUICK_FITS: u64 = 10;

/// `fits:` as written.
#[derive(Debug, Clone, PartialEq)]
pub enum FitsSpec {
    /// `fits: 100`: every implementation of the scenario that follows the protocol.
    Every(u64),
    /// `fits: {rust: 50000, python-pure: 300}`: the implementations named, each its own count.
    Each(Vec<(Spanned<String>, Spanned<u64>)>),
}

impl<'de> Deserialize<'de> for FitsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FitsVisitor)
    }
}

struct FitsVisitor;

impl<'de> Visitor<'de> for FitsVisitor {
    type Value = FitsSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number of fits, or a map of implementation: number of fits")
    }

    fn visit_u64<E: de::Error>(self, count: u64) -> Result<FitsSpec, E> {
        Ok(FitsSpec::Every(count))
    }

    fn visit_i64<E: de::Error>(self, count: i64) -> Result<FitsSpec, E> {
        u64::try_from(count).map(FitsSpec::Every).map_err(|_| E::invalid_value(Unexpected::Signed(count), &self))
    }

    fn visit_f64<E: de::Error>(self, count: f64) -> Result<FitsSpec, E> {
        Err(E::invalid_value(Unexpected::Float(count), &self))
    }

    /// A quoted number is read as the number it spells, as everywhere in a scenario.
    fn visit_str<E: de::Error>(self, text: &str) -> Result<FitsSpec, E> {
        text.trim().parse().map(FitsSpec::Every).map_err(|_| E::invalid_value(Unexpected::Str(text), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FitsSpec, A::Error> {
        let mut entries = Vec::new();
        while let Some(name) = map.next_key::<Spanned<String>>()? {
            entries.push((name, map.next_value::<Spanned<u64>>()?));
        }
        Ok(FitsSpec::Each(entries))
    }
}

/// The fits each implementation makes at one point: the scenario's counts (`training: fits`),
/// then the point's own over them for the implementations it names (a plain number names every
/// one). `follows_protocol` lists the implementations a plain number applies to: a `protocol:
/// none` program prints no result line and gets no `--fits`. Implementations without a count
/// make one fit, as every run did before `--fits` existed, and are left out of the map.
pub(crate) fn fits_at_point(scenario: Option<&FitsSpec>, point: Option<&FitsSpec>, follows_protocol: &[&str]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for spec in [scenario, point].into_iter().flatten() {
        match spec {
            FitsSpec::Every(count) => counts.extend(follows_protocol.iter().map(|name| (name.to_string(), *count))),
            FitsSpec::Each(entries) => counts.extend(entries.iter().map(|(name, count)| (name.value.clone(), count.value))),
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<FitsSpec, String> {
        #[derive(Debug, Deserialize)]
        struct Holder {
            fits: FitsSpec,
        }
        serde_saphyr::from_str::<Holder>(yaml).map(|h| h.fits).map_err(|e| e.to_string())
    }

    #[test]
    fn a_number_or_a_map_of_numbers() {
        assert_eq!(parse("fits: 100"), Ok(FitsSpec::Every(100)));
        assert_eq!(parse("fits: \"100\""), Ok(FitsSpec::Every(100)));
        let FitsSpec::Each(entries) = parse("fits: {rust: 5000, python-pure: 3}").unwrap() else { panic!("a map") };
        let read: Vec<(&str, u64)> = entries.iter().map(|(name, count)| (name.value.as_str(), count.value)).collect();
        assert_eq!(read, [("rust", 5000), ("python-pure", 3)]);
        // Where each count is, for errors that name the line.
        assert_eq!((entries[1].1.referenced.line(), entries[1].1.referenced.column()), (1, 33));
        for bad in ["fits: -3", "fits: 2.5", "fits: ten", "fits: [1, 2]", "fits: {rust: ten}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("fits: 2.5").unwrap_err().contains("a whole number of fits"), "{}", parse("fits: 2.5").unwrap_err());
    }

    #[test]
    fn a_points_counts_override_the_scenarios_for_the_implementations_they_name() {
        let every = FitsSpec::Every(100);
        let named = parse("fits: {python-pure: 3}").unwrap();
        let protocol = ["rust", "python-pure"];
        let counts = fits_at_point(Some(&every), Some(&named), &protocol);
        assert_eq!(counts, BTreeMap::from([("rust".to_string(), 100), ("python-pure".to_string(), 3)]));
        assert_eq!(fits_at_point(None, Some(&named), &protocol), BTreeMap::from([("python-pure".to_string(), 3)]));
        assert!(fits_at_point(None, None, &protocol).is_empty());
        assert_eq!(fits_at_point(Some(&named), Some(&FitsSpec::Every(7)), &protocol)["python-pure"], 7);
    }
}
