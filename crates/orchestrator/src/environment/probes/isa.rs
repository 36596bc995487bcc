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
    /// The widest the CPU reports: AVX-512F, else AVX2 with FMA, else portable code.
    pub fn widest() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return Isa::Avx2Fma;
            }
        }
        Isa::Portable
    }

    /// Every instruction set this CPU can run, narrowest first (for tests that compare them).
    #[cfg(test)]
    pub fn available() -> Vec<Isa> {
        let widest = Isa::widest();
        [Isa::Portable, Isa::Avx2Fma, Isa::Avx512].into_iter().filter(|isa| *isa <= widest).collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2Fma => "avx2-fma",
            Isa::Avx512 => "avx512",
        }
    }
}
