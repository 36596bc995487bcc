//! The microarchitecture a CPU's vendor, family and model (and, for Intel's model 85, stepping)
//! name: a small table of the CPUs this project is likely to meet, not an encyclopaedia. Every
//! row follows a public reference: AMD's from the Linux kernel's Zen generations
//! (arch/x86/kernel/cpu/amd.c, bsp_init_amd), with Zen+ (models 08h and 18h of family 17h, which
//! the kernel counts as Zen 1) told apart; Intel's from arch/x86/include/asm/intel-family.h, and
//! the steppings of model 85 from perf's tools/perf/pmu-events/arch/x86/mapfile.csv (0–4
//! Skylake-SP, 5 and up Cascade Lake) and intel-family.h's note (stepping 11 Cooper Lake). A CPU
//! the table does not hold is "unknown", never a guess.

use std::ops::RangeInclusive;

/// A microarchitecture: its name as people write it, and the short form machine labels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Microarchitecture {
    pub name: &'static str,
    pub slug: &'static str,
}

pub(crate) const AMD: &str = "AuthenticAMD";
pub(crate) const INTEL: &str = "GenuineIntel";

struct Row {
    vendor: &'static str,
    family: u32,
    models: &'static [RangeInclusive<u32>],
    /// The steppings the row covers; None for every stepping.
    steppings: Option<RangeInclusive<u32>>,
    arch: Microarchitecture,
}

const fn arch(name: &'static str, slug: &'static str) -> Microarchitecture {
    Microarchitecture { name, slug }
}

const fn amd(family: u32, models: &'static [RangeInclusive<u32>], arch: Microarchitecture) -> Row {
    Row { vendor: AMD, family, models, steppings: None, arch }
}

const fn intel(models: &'static [RangeInclusive<u32>], arch: Microarchitecture) -> Row {
    Row { vendor: INTEL, family: 6, models, steppings: None, arch }
}

const ZEN: Microarchitecture = arch("Zen", "zen1");
const ZEN_PLUS: Microarchitecture = arch("Zen+", "zenplus");
const ZEN2: Microarchitecture = arch("Zen 2", "zen2");
const ZEN3: Microarchitecture = arch("Zen 3", "zen3");
const ZEN4: Microarchitecture = arch("Zen 4", "zen4");
const ZEN5: Microarchitecture = arch("Zen 5", "zen5");
const ZEN6: Microarchitecture = arch("Zen 6", "zen6");

/// First match wins: the narrower rows (Zen+ inside Zen 1's range, model 85 by stepping) come first.
const TABLE: &[Row] = &[
    // AMD family 17h (23).
    amd(0x17, &[0x08..=0x08, 0x18..=0x18], ZEN_PLUS),
    amd(0x17, &[0x00..=0x2f, 0x50..=0x5f], ZEN),
    amd(0x17, &[0x30..=0x4f, 0x60..=0x7f, 0x90..=0x91, 0xa0..=0xaf], ZEN2),
    // AMD family 19h (25).
    amd(0x19, &[0x00..=0x0f, 0x20..=0x5f], ZEN3),
    amd(0x19, &[0x10..=0x1f, 0x60..=0xaf], ZEN4),
    // AMD family 1Ah (26).
    amd(0x1a, &[0x00..=0x2f, 0x40..=0x4f, 0x60..=0x7f], ZEN5),
    amd(0x1a, &[0x50..=0x5f, 0x80..=0xaf, 0xc0..=0xcf], ZEN6),
    // Intel family 6, servers.
    intel(&[0x3f..=0x3f], arch("Haswell-EP", "haswell-x")),
    intel(&[0x4f..=0x4f], arch("Broadwell-EP", "broadwell-x")),
    Row { steppings: Some(0..=4), ..intel(&[0x55..=0x55], arch("Skylake-SP", "skylake-sp")) },
    Row { steppings: Some(11..=11), ..intel(&[0x55..=0x55], arch("Cooper Lake", "cooperlake")) },
    Row { steppings: Some(5..=15), ..intel(&[0x55..=0x55], arch("Cascade Lake", "cascadelake")) },
    intel(&[0x6a..=0x6a, 0x6c..=0x6c], arch("Ice Lake-SP", "icelake-sp")),
    intel(&[0x8f..=0x8f], arch("Sapphire Rapids", "sapphirerapids")),
    intel(&[0xcf..=0xcf], arch("Emerald Rapids", "emeraldrapids")),
    intel(&[0xad..=0xae], arch("Granite Rapids", "graniterapids")),
    intel(&[0xaf..=0xaf], arch("Sierra Forest", "sierraforest")),
    intel(&[0xdd..=0xdd], arch("Clearwater Forest", "clearwaterforest")),
    Row { family: 19, ..intel(&[0x01..=0x01], arch("Diamond Rapids", "diamondrapids")) },
    // Intel family 6, clients (Kaby, Coffee, Whiskey and Comet Lake are Skylake cores).
    intel(&[0x3c..=0x3c, 0x45..=0x46], arch("Haswell", "haswell")),
    intel(&[0x3d..=0x3d, 0x47..=0x47], arch("Broadwell", "broadwell")),
    intel(&[0x4e..=0x4e, 0x5e..=0x5e, 0x8e..=0x8e, 0x9e..=0x9e, 0xa5..=0xa6], arch("Skylake", "skylake")),
    intel(&[0x7d..=0x7e], arch("Ice Lake", "icelake")),
    intel(&[0x8c..=0x8d], arch("Tiger Lake", "tigerlake")),
    intel(&[0xa7..=0xa7], arch("Rocket Lake", "rocketlake")),
    intel(&[0x97..=0x97, 0x9a..=0x9a], arch("Alder Lake", "alderlake")),
    intel(&[0xb7..=0xb7, 0xba..=0xba, 0xbf..=0xbf], arch("Raptor Lake", "raptorlake")),
    intel(&[0xaa..=0xaa, 0xac..=0xac], arch("Meteor Lake", "meteorlake")),
    intel(&[0xb5..=0xb5, 0xc5..=0xc6], arch("Arrow Lake", "arrowlake")),
    intel(&[0xbd..=0xbd], arch("Lunar Lake", "lunarlake")),
];

/// The microarchitecture of this vendor, family and model (stepping where the table needs it),
/// or None when the table does not know it.
pub(crate) fn lookup(vendor: &str, family: u32, model: u32, stepping: Option<u32>) -> Option<Microarchitecture> {
    TABLE
        .iter()
        .find(|row| {
            row.vendor == vendor
                && row.family == family
                && row.models.iter().any(|m| m.contains(&model))
                && row.steppings.as_ref().is_none_or(|s| stepping.is_some_and(|x| s.contains(&x)))
        })
        .map(|row| row.arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(vendor: &str, family: u32, model: u32, stepping: Option<u32>) -> &'static str {
        lookup(vendor, family, model, stepping).map_or("unknown", |a| a.name)
    }

    #[test]
    fn the_cpus_this_project_met_are_named() {
        // EPYC "Naples" (the gallery's zen1 run, lscpu: family 23 model 1) and this project's
        // Zen 3 development VM (family 25 model 1).
        assert_eq!(name(AMD, 23, 1, Some(2)), "Zen");
        assert_eq!(name(AMD, 25, 1, Some(1)), "Zen 3");
        assert_eq!(name(AMD, 26, 0x02, None), "Zen 5");
        assert_eq!(name(AMD, 26, 0x50, None), "Zen 6");
        assert_eq!(name(INTEL, 6, 143, Some(8)), "Sapphire Rapids");
    }

    #[test]
    fn narrower_rows_win_and_steppings_split_model_85() {
        assert_eq!(name(AMD, 23, 8, None), "Zen+");
        assert_eq!(name(AMD, 23, 0x18, None), "Zen+");
        assert_eq!(name(AMD, 23, 0x31, None), "Zen 2");
        assert_eq!(name(AMD, 25, 0x11, None), "Zen 4");
        assert_eq!(name(AMD, 25, 0x61, None), "Zen 4");
        assert_eq!(name(AMD, 25, 0x44, None), "Zen 3");
        assert_eq!(name(INTEL, 6, 85, Some(4)), "Skylake-SP");
        assert_eq!(name(INTEL, 6, 85, Some(7)), "Cascade Lake");
        assert_eq!(name(INTEL, 6, 85, Some(11)), "Cooper Lake");
        assert_eq!(name(INTEL, 6, 106, Some(6)), "Ice Lake-SP");
        assert_eq!(name(INTEL, 6, 207, None), "Emerald Rapids");
        assert_eq!(name(INTEL, 6, 173, None), "Granite Rapids");
    }

    #[test]
    fn what_the_table_does_not_hold_is_unknown() {
        // Model 85 without its stepping could be any of three.
        assert_eq!(name(INTEL, 6, 85, None), "unknown");
        assert_eq!(name(AMD, 23, 0x80, None), "unknown");
        assert_eq!(name(AMD, 6, 143, None), "unknown", "the vendor is part of the key");
        assert_eq!(name("HygonGenuine", 0x18, 0, None), "unknown");
        assert_eq!(name(INTEL, 15, 4, None), "unknown");
    }
}
