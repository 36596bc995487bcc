//! Which machine a run was measured on: the CPU's vendor, family, model and stepping, its
//! microarchitecture (microarch.rs), the SIMD extensions these kernels use, cpu0's caches as the
//! (guest) kernel shows them, and the hypervisor — read at run time from /proc/cpuinfo, sysfs and
//! CPUID, or, for a run directory whose environment.json predates them, from the `lscpu` or
//! /proc/cpuinfo text saved beside it — and the short label that names the machine in reports
//! (`zen3-2c-32m`: microarchitecture or vendor, logical CPUs, L3, an `-avx512` suffix).

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use linreg::caches::Cache;
use linreg::caches::{data_cache_bytes, size_in_bytes, sysfs_caches, CPU0_CACHES};

use super::microarch;

/// What the microarchitecture is called when the table does not know the CPU.
pub(crate) const UNKNOWN: &str = "unknown";

/// The source of an identity read on the machine itself when the run started.
const LIVE_SOURCE: &str = "/proc/cpuinfo, sysfs and CPUID";

/// The files beside a run directory that describe an older run's CPU (`lscpu > lscpu.txt`; the
/// first processor block of /proc/cpuinfo), read in this order.
pub(crate) const FILES_BESIDE_A_RUN: [&str; 2] = ["lscpu.txt", "cpuinfo-cpu0.txt"];

/// The CPU as the machine running the benchmark sees it (in a VM: as the guest sees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MachineIdentity {
    /// The CPUID vendor string: "AuthenticAMD", "GenuineIntel".
    pub vendor: String,
    pub family: Option<u32>,
    pub model: Option<u32>,
    pub stepping: Option<u32>,
    /// From the family and model ("Zen 3", "Sapphire Rapids"), or "unknown".
    pub microarchitecture: String,
    /// The SIMD extensions the kernels choose between, as the CPU flags show them.
    pub avx2: bool,
    pub fma: bool,
    pub avx512f: bool,
    /// cpu0's caches, by level.
    pub caches: Vec<Cache>,
    /// The hypervisor's vendor ("KVM") in a virtual machine; "unknown" when the CPU says it runs
    /// under one but not which; None on bare metal.
    pub hypervisor: Option<String>,
    /// Where this was read ("/proc/cpuinfo, sysfs and CPUID", or a file beside the run).
    pub source: String,
}

impl MachineIdentity {
    /// The microarchitecture's slug when the table knows it ("zen3"), else the vendor's ("amd").
    fn label_head(&self) -> String {
        let known = match (self.family, self.model) {
            (Some(family), Some(model)) => microarch::lookup(&self.vendor, family, model, self.stepping),
            _ => None,
        };
        known.map_or_else(|| vendor_slug(&self.vendor).to_string(), |a| a.slug.to_string())
    }

    /// The last-level cache cpu0 sees (the largest unified or data cache of the highest level).
    pub(crate) fn last_level_cache_bytes(&self) -> Option<u64> {
        let level = self.caches.iter().filter(|c| c.kind != "Instruction").map(|c| c.level).max()?;
        data_cache_bytes(&self.caches, level)
    }

    /// The machine's label: `zen3-2c-32m`, `intel-8c-30m-avx512`.
    pub(crate) fn label(&self, logical_cpus: usize) -> String {
        label_from_parts(&self.label_head(), logical_cpus, self.last_level_cache_bytes(), self.avx512f)
    }

    /// One line for a reader: "Zen 3 (AuthenticAMD family 25 model 1 stepping 1); AVX2, FMA, no
    /// AVX-512F; caches L1d 32 KiB, …; a KVM virtual machine".
    pub(crate) fn describe(&self) -> String {
        let number = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
        let simd: Vec<String> = [("AVX2", self.avx2), ("FMA", self.fma), ("AVX-512F", self.avx512f)]
            .iter()
            .map(|(name, has)| if *has { (*name).to_string() } else { format!("no {name}") })
            .collect();
        let caches: Vec<String> = self.caches.iter().map(|c| format!("{} {}", cache_name(c), size_text(c.size_bytes))).collect();
        let host = match self.hypervisor.as_deref() {
            Some(UNKNOWN) => "a virtual machine (hypervisor unknown)".to_string(),
            Some(vendor) => format!("a {} virtual machine", plain(vendor)),
            None => "no hypervisor seen".to_string(),
        };
        format!(
            "{} ({} family {} model {} stepping {}); {}; caches {}; {}",
            plain(&self.microarchitecture),
            if self.vendor.is_empty() { "vendor unknown".to_string() } else { plain(&self.vendor) },
            number(self.family),
            number(self.model),
            number(self.stepping),
            simd.join(", "),
            if caches.is_empty() { "unknown".to_string() } else { caches.join(", ") },
            host
        )
    }

    /// describe(), and where it was read when that was not the machine itself during the run.
    pub(crate) fn describe_with_source(&self) -> String {
        if self.source == LIVE_SOURCE {
            self.describe()
        } else {
            format!("{} (from {})", self.describe(), plain(&self.source))
        }
    }
}

/// `head-Nc[-Lm][-avx512]`: the label's parts joined (the last-level cache in MiB, or KiB when
/// it is not a whole number of MiB).
pub(crate) fn label_from_parts(head: &str, logical_cpus: usize, last_level_cache: Option<u64>, avx512: bool) -> String {
    let mut label = format!("{head}-{logical_cpus}c");
    if let Some(bytes) = last_level_cache.filter(|b| *b > 0) {
        if bytes.is_multiple_of(1 << 20) {
            label.push_str(&format!("-{}m", bytes >> 20));
        } else {
            label.push_str(&format!("-{}k", bytes >> 10));
        }
    }
    if avx512 {
        label.push_str("-avx512");
    }
    label
}

/// "amd", "intel", or "cpu" for a vendor this code does not name.
pub(crate) fn vendor_slug(vendor: &str) -> &'static str {
    let lower = vendor.to_ascii_lowercase();
    if vendor == microarch::AMD || lower.starts_with("amd") {
        "amd"
    } else if vendor == microarch::INTEL || lower.starts_with("intel") {
        "intel"
    } else {
        "cpu"
    }
}

/// A label a user gives (`run --machine-label`, `machines LABEL=DIR`) must be usable as a folder
/// name and read as plain text: 1–64 of A–Z a–z 0–9 . _ + -, not starting with . or -.
pub(crate) fn check_label(label: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._+-".contains(c);
    if label.is_empty() || label.len() > 64 || !label.chars().all(allowed) || label.starts_with(['.', '-']) {
        return Err(format!(
            "machine label '{label}' is not usable: give 1 to 64 of the characters A-Z a-z 0-9 . _ + - (not starting with . or -), e.g. zen3-2c-32m"
        ));
    }
    Ok(())
}

fn cache_name(cache: &Cache) -> String {
    match cache.kind.as_str() {
        "Data" => format!("L{}d", cache.level),
        "Instruction" => format!("L{}i", cache.level),
        _ => format!("L{}", cache.level),
    }
}

/// Text read from a file (a vendor or hypervisor name) as plain words in a report: anything but
/// letters, digits, spaces and . _ ( ) + - becomes '?', so it never reads as markup.
fn plain(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || " ._()+-".contains(c) { c } else { '?' }).collect()
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

// ---------------------------------------------------------------------------------------------
// Reading it.

/// This machine, now: /proc/cpuinfo, cpu0's caches in sysfs, the hypervisor from CPUID (or
/// /sys/hypervisor/type). Never fails: what cannot be read is left unknown.
pub(crate) fn collect() -> MachineIdentity {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mut identity = parse(&cpuinfo, LIVE_SOURCE);
    identity.caches = sysfs_caches(Path::new(CPU0_CACHES));
    let sysfs_hypervisor = std::fs::read_to_string("/sys/hypervisor/type").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if identity.hypervisor.is_some() {
        identity.hypervisor = cpuid_hypervisor().or(sysfs_hypervisor).or(Some(UNKNOWN.into()));
    } else if sysfs_hypervisor.is_some() {
        identity.hypervisor = sysfs_hypervisor;
    }
    identity
}

/// The identity an older run's folder holds beside it (FILES_BESIDE_A_RUN), if any, each file read
/// with `read` (the analysis reads a run directory's files only as records::file allows: a run
/// directory can come from someone else).
pub(crate) fn from_files_beside(run_dir: &Path, read: impl Fn(&Path) -> Option<String>) -> Option<MachineIdentity> {
    FILES_BESIDE_A_RUN.iter().find_map(|name| {
        let text = read(&run_dir.join(name))?;
        let identity = parse(&text, &format!("{name} beside the run"));
        (!identity.vendor.is_empty()).then_some(identity)
    })
}

/// The identity in `lscpu` output or /proc/cpuinfo text (only its first processor block): both
/// are "key: value" lines, with their own names for the same keys.
pub(crate) fn parse(text: &str, source: &str) -> MachineIdentity {
    let mut fields: Vec<(String, &str)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() && !fields.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim().to_ascii_lowercase();
            if !fields.iter().any(|(k, _)| *k == key) {
                fields.push((key, value.trim()));
            }
        }
    }
    let get = |names: &[&str]| fields.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| *v);
    let number = |names: &[&str]| get(names).and_then(|v| v.parse::<u32>().ok());
    let flags: Vec<&str> = get(&["flags"]).map(|f| f.split_whitespace().collect()).unwrap_or_default();
    let vendor = get(&["vendor_id", "vendor id"]).unwrap_or_default().to_string();
    let (family, model, stepping) = (number(&["cpu family"]), number(&["model"]), number(&["stepping"]));
    let microarchitecture = match (family, model) {
        (Some(f), Some(m)) => microarch::lookup(&vendor, f, m, stepping).map_or(UNKNOWN, |a| a.name),
        _ => UNKNOWN,
    };
    let caches = [("l1d cache", 1, "Data"), ("l1i cache", 1, "Instruction"), ("l2 cache", 2, "Unified"), ("l3 cache", 3, "Unified")]
        .iter()
        .filter_map(|(key, level, kind)| {
            let size_bytes = get(&[key]).and_then(lscpu_cache_size)?;
            Some(Cache { level: *level, kind: (*kind).to_string(), size_bytes })
        })
        .collect();
    let hypervisor = get(&["hypervisor vendor"]).map(str::to_string).or_else(|| flags.contains(&"hypervisor").then(|| UNKNOWN.to_string()));
    MachineIdentity {
        vendor,
        family,
        model,
        stepping,
        microarchitecture: microarchitecture.to_string(),
        avx2: flags.contains(&"avx2"),
        fma: flags.contains(&"fma"),
        avx512f: flags.contains(&"avx512f"),
        caches,
        hypervisor,
        source: source.to_string(),
    }
}

/// One instance's size from lscpu's "1 MiB (2 instances)" (newer lscpu gives the total) or
/// "512K" (older lscpu, one instance).
fn lscpu_cache_size(value: &str) -> Option<u64> {
    let (size, rest) = match value.split_once('(') {
        Some((size, rest)) => (size.trim(), Some(rest)),
        None => (value.trim(), None),
    };
    let instances = match rest {
        Some(rest) => rest.split_whitespace().next()?.parse::<u64>().ok().filter(|n| *n > 0)?,
        None => 1,
    };
    Some(size_in_bytes(size)? / instances)
}

/// The hypervisor's vendor from CPUID leaf 0x4000_0000 (defined only under a hypervisor, which
/// the caller learnt from the CPU's hypervisor flag).
#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor() -> Option<String> {
    // SAFETY: CPUID exists on every x86_64 CPU; a leaf it does not define returns data, not a fault.
    #[allow(unused_unsafe)]
    let leaf = unsafe { std::arch::x86_64::__cpuid(0x4000_0000) };
    let bytes: Vec<u8> = [leaf.ebx, leaf.ecx, leaf.edx].iter().flat_map(|w| w.to_le_bytes()).collect();
    let signature = String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_string();
    let name = match signature.as_str() {
        "KVMKVMKVM" => "KVM",
        "Microsoft Hv" => "Microsoft Hyper-V",
        "VMwareVMware" => "VMware",
        "XenVMMXenVMM" => "Xen",
        "TCGTCGTCGTCG" => "QEMU (TCG)",
        "VBoxVBoxVBox" => "VirtualBox",
        "bhyve bhyve " => "bhyve",
        "ACRNACRNACRN" => "ACRN",
        other if !other.trim().is_empty() && other.chars().all(|c| c.is_ascii_graphic() || c == ' ') => other,
        _ => return None,
    };
    Some(name.to_string())
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_hypervisor() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of the gallery's zen1 run's lscpu.txt (docs/machines/zen1-2c-8m).
    const LSCPU_ZEN1: &str = "Architecture:                            x86_64
CPU(s):                                  2
Vendor ID:                               AuthenticAMD
Model name:                              AMD EPYC
CPU family:                              23
Model:                                   1
Stepping:                                2
Flags:                                   fpu sse2 ssse3 fma sse4_2 avx hypervisor avx2 smep
Hypervisor vendor:                       KVM
Virtualization type:                     full
L1d cache:                               64 KiB (2 instances)
L1i cache:                               128 KiB (2 instances)
L2 cache:                                1 MiB (2 instances)
L3 cache:                                8 MiB (1 instance)
";

    #[test]
    fn lscpu_text_gives_the_identity_and_label_of_the_zen1_run() {
        let identity = parse(LSCPU_ZEN1, "lscpu.txt beside the run");
        assert_eq!((identity.family, identity.model, identity.stepping), (Some(23), Some(1), Some(2)));
        assert_eq!(identity.microarchitecture, "Zen");
        assert!(identity.avx2 && identity.fma && !identity.avx512f);
        assert_eq!(identity.hypervisor.as_deref(), Some("KVM"));
        let sizes: Vec<(u8, &str, u64)> = identity.caches.iter().map(|c| (c.level, c.kind.as_str(), c.size_bytes)).collect();
        assert_eq!(sizes, vec![(1, "Data", 32 << 10), (1, "Instruction", 64 << 10), (2, "Unified", 512 << 10), (3, "Unified", 8 << 20)]);
        assert_eq!(identity.label(2), "zen1-2c-8m");
        let text = identity.describe();
        assert!(text.contains("Zen (AuthenticAMD family 23 model 1 stepping 2)") && text.contains("no AVX-512F"), "{text}");
        assert!(text.contains("L3 8 MiB") && text.contains("a KVM virtual machine"), "{text}");
    }

    #[test]
    fn cpuinfo_text_is_read_to_its_first_blank_line() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel Xeon\nstepping\t: 8\n\
                    flags\t\t: fma avx2 avx512f hypervisor\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n";
        let identity = parse(text, "cpuinfo-cpu0.txt beside the run");
        assert_eq!(identity.vendor, "GenuineIntel");
        assert_eq!(identity.microarchitecture, "Sapphire Rapids");
        assert!(identity.avx512f);
        assert_eq!(identity.hypervisor.as_deref(), Some(UNKNOWN), "a guest, but the flags do not say of what");
        // No caches in /proc/cpuinfo's keys: the label has no cache part.
        assert_eq!(identity.label(4), "sapphirerapids-4c-avx512");
    }

    #[test]
    fn an_unknown_cpu_is_labelled_by_its_vendor() {
        let identity = parse("vendor_id: AuthenticAMD\ncpu family: 23\nmodel: 128\n", "test");
        assert_eq!(identity.microarchitecture, UNKNOWN);
        assert_eq!(identity.label(16), "amd-16c");
        assert_eq!(parse("", "test").label(1), "cpu-1c");
    }

    #[test]
    fn cache_sizes_in_every_spelling() {
        assert_eq!(lscpu_cache_size("32K"), Some(32 << 10));
        assert_eq!(lscpu_cache_size("1 MiB (2 instances)"), Some(512 << 10));
        assert_eq!(lscpu_cache_size("1.5 MiB (1 instance)"), Some(3 << 19));
        assert_eq!(lscpu_cache_size("8 MiB (0 instances)"), None);
        assert_eq!(lscpu_cache_size("lots"), None);
        assert_eq!(label_from_parts("zen3", 2, Some(32 << 20), false), "zen3-2c-32m");
        assert_eq!(label_from_parts("zen5", 2, Some(32 << 20), true), "zen5-2c-32m-avx512");
        assert_eq!(label_from_parts("intel", 8, Some(1_408 << 10), false), "intel-8c-1408k");
    }

    #[test]
    fn user_labels_are_folder_names_of_plain_characters() {
        assert!(check_label("zen3-2c-32m").is_ok());
        assert!(check_label("ci_runner.2+avx").is_ok());
        for bad in ["", ".", "..", "-x", "a/b", "a b", "<b>", "x|y", &"z".repeat(65)] {
            assert!(check_label(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn text_from_a_file_is_never_markup() {
        let identity = parse("vendor_id: <img src=x>\nflags: hypervisor\nHypervisor vendor: **KVM**|x\n", "test");
        let text = identity.describe();
        assert!(!text.contains(['<', '>', '*', '|']), "{text}");
    }

    #[test]
    fn this_machine_reads_without_failing() {
        // Whatever the CPU: a label is made, and on x86-64 Linux the vendor is read.
        let identity = collect();
        let label = identity.label(1);
        assert!(check_label(&label).is_ok(), "{label}");
        if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            assert!(!identity.vendor.is_empty(), "{identity:?}");
        }
    }
}
