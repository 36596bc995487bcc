//! "Did you mean …?": the closest of some names to one a user mistyped.

/// Edits (Levenshtein) within which a name is offered as what was meant: `sead.yaml` for
/// `seed.yaml`, `rust-smid` for `rust-simd`; `rust-musl` is not `rust-simd`.
const MAX_EDITS: usize = 3;

/// The candidate closest to `wanted`, if within [`MAX_EDITS`] edits (the first of equals).
pub(super) fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (distance, name) = candidates.into_iter().map(|name| (strsim::levenshtein(wanted, name), name)).min_by_key(|(d, _)| *d)?;
    (distance <= MAX_EDITS).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn a_near_name_is_offered_and_a_far_one_is_not() {
        let names = ["rust", "rust-simd", "rust-parallel", "python-numpy"];
        assert_eq!(closest("rust-smid", names), Some("rust-simd"));
        assert_eq!(closest("pyhton-numpy", names), Some("python-numpy"));
        assert_eq!(closest("rust-musl", names), None);
        assert_eq!(closest("anything", []), None);
    }
}
