//! How much of a probe's buffer Linux backs with huge pages. `linreg::placement` lays a buffer near
//! the L2's size out on whole huge pages and advises them, but the advice is only advice: with
//! memory fragmented, a fault may get 4 KiB pages, and the layout (and the limit measured over it)
//! is then partly the draw the placement exists to avoid. The probe looks, after it has written
//! the buffer, so that the report says "on whole huge pages" only where that was so. In the
//! orchestrator, not in `linreg`: reading smaps is for a probe, never for a measured program.

use linreg::placement::Buffer;

use crate::measure::smaps_field_bytes;

/// The share of `buffer` that Linux backs with huge pages now (pages not yet written count as
/// not backed), by /proc/self/smaps; None for a buffer on the heap or where smaps cannot be read.
pub(crate) fn share(buffer: &Buffer) -> Option<f64> {
    let (start, bytes) = buffer.mapping()?;
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let huge = anon_huge_bytes(&smaps, start)?;
    Some((huge as f64 / bytes as f64).min(1.0))
}

/// The `AnonHugePages` of the mapping that holds `address`, in bytes, from smaps' text: a header
/// line `start-end perms …` (hexadecimal) for each mapping, then its `Field:  N kB` lines.
fn anon_huge_bytes(smaps: &str, address: usize) -> Option<u64> {
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) {
                inside = (start..end).contains(&address);
                continue;
            }
        }
        if inside && line.starts_with("AnonHugePages:") {
            return smaps_field_bytes(line, "AnonHugePages:");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_gives_the_huge_pages_of_the_mapping_that_holds_the_address() {
        let smaps = "\
55d0c0a00000-55d0c0c00000 rw-p 00000000 00:00 0 \n\
Size:               2048 kB\n\
AnonHugePages:         0 kB\n\
7f3a00000000-7f3a00600000 rw-p 00000000 00:00 0 \n\
Size:               6144 kB\n\
Rss:                6144 kB\n\
AnonHugePages:      4096 kB\n\
VmFlags: rd wr mr mw me ac hg\n\
7ffd1c5e0000-7ffd1c601000 rw-p 00000000 00:00 0                          [stack]\n\
AnonHugePages:         0 kB\n";
        assert_eq!(anon_huge_bytes(smaps, 0x7f3a_0000_0000), Some(4 << 20));
        assert_eq!(anon_huge_bytes(smaps, 0x7f3a_005f_ffff), Some(4 << 20), "the mapping's last byte");
        assert_eq!(anon_huge_bytes(smaps, 0x7f3a_0060_0000), None, "just past it, in no mapping");
        assert_eq!(anon_huge_bytes(smaps, 0x55d0_c0b0_0000), Some(0));
        assert_eq!(anon_huge_bytes("", 0x1000), None);
    }

    #[test]
    fn a_written_buffer_on_whole_pages_reports_a_share_and_a_small_one_none() {
        let mut large = Buffer::zeroed(4 << 20);
        large.values_mut().iter_mut().for_each(|v| *v = 1.0);
        // How much Linux gives depends on the machine (THP's mode, fragmentation): a share, where
        // the buffer went on whole pages and smaps shows its mapping (qemu-user's smaps is the
        // host's, at other addresses: nothing found there, and nothing claimed).
        if let Some(s) = share(&large) {
            assert!(large.on_whole_pages() && (0.0..=1.0).contains(&s), "{s}");
        }
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert_eq!(share(&large).is_some(), large.on_whole_pages(), "a mapped buffer is found in smaps");
        assert_eq!(share(&Buffer::zeroed(100)), None);
    }
}
