//! The widest vector instruction set this CPU offers the probes, detected at run time: the machine's
//! limits are what its best instructions can do, whatever the kernels under test use.

use serde::{Deserialize, Serialize};

/// Ordered narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isa {
    /// Plain Rust, independent accumulators; whatever the compiler makes of it.
    Portable,
    /// 256-bit vectors with fused multiply-add.
    Avx2Fma,
    /// 512-bit vectors (AVX-512 Foundation, which has FMA).
    Avx512,
}

impl Isa {
    /// The widest the CPU reports: AVX-512F, else AVX2 with FMA, else portable code. The CPU is
    /// asked through linreg's detection, the one the kernels under test use, so both always agree
    /// on what this machine has.
    pub(crate) fn widest() -> Isa {
        if linreg::Isa::avx512().is_some() {
            Isa::Avx512
        } else if linreg::Isa::avx2_fma().is_some() {
            Isa::Avx2Fma
        } else {
            Isa::Portable
        }
    }

    /// Every instruction set this CPU can run, narrowest first (for tests that compare them).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        let widest = Isa::widest();
        [Isa::Portable, Isa::Avx2Fma, Isa::Avx512].into_iter().filter(|isa| *isa <= widest).collect()
    }

    /// The kernels' instruction set of the same kind, to run their loop like for like. The CPU
    /// has it: [`Isa::widest`] and the narrower ones were found through linreg's own detection.
    pub(crate) fn for_kernels(self) -> linreg::Isa {
        let same = match self {
            Isa::Avx512 => linreg::Isa::avx512(),
            Isa::Avx2Fma => linreg::Isa::avx2_fma(),
            Isa::Portable => Some(linreg::Isa::PORTABLE),
        };
        same.unwrap_or(linreg::Isa::PORTABLE)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2Fma => "avx2-fma",
            Isa::Avx512 => "avx512",
        }
    }
}
