//! A detached container's monitor lives as long as the container but runs little of box's
//! code: it gives back the pages of box's binary that starting the container touched.

use std::path::Path;

/// Drops from this process's page tables every mapping of box's binary that holds no page of
/// its own (`Anonymous: 0 kB` in smaps: code and read-only data never written). Those pages
/// are the file's, still in the page cache, and the few the monitor uses while it waits fault
/// back in from there. A mapping with a written page (relocations, data) is left alone: giving
/// it back would lose the write.
pub fn release_code_pages() {
    let (Ok(exe), Ok(smaps)) = (
        std::fs::read_link("/proc/self/exe"),
        std::fs::read_to_string("/proc/self/smaps"),
    ) else {
        return;
    };
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(range) = mapping_of(line, &exe) {
            current = range;
        } else if let (Some((start, end)), Some(anon)) = (current, line.strip_prefix("Anonymous:"))
        {
            current = None;
            if anon.trim() == "0 kB" {
                // SAFETY: the range is one whole mapping of this process, read from its own
                // smaps, of box's file with no private page: MADV_DONTNEED only unmaps it from
                // the page tables, and the next access reads it back from the page cache.
                unsafe {
                    libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
                };
            }
        }
    }
}

/// For a mapping's header line: `Some(Some(range))` when it maps `exe`, `Some(None)` for any
/// other mapping, `None` for a field line.
fn mapping_of(line: &str, exe: &Path) -> Option<Option<(usize, usize)>> {
    // start-end perms offset dev inode [path]
    let fields: Vec<&str> = line.split_whitespace().collect();
    let range = fields.first()?;
    let (start, end) = range.split_once('-')?;
    let (Ok(start), Ok(end)) = (
        usize::from_str_radix(start, 16),
        usize::from_str_radix(end, 16),
    ) else {
        return None;
    };
    let ours = fields.get(5).is_some_and(|p| Path::new(p) == exe);
    Some(ours.then_some((start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mapping_headers_only() {
        let exe = Path::new("/usr/bin/box");
        assert_eq!(
            mapping_of("5600-5700 r-xp 00001000 fd:01 123 /usr/bin/box", exe),
            Some(Some((0x5600, 0x5700)))
        );
        assert_eq!(
            mapping_of("7f00-7f10 r--p 00000000 fd:01 9 /usr/lib/libc.so.6", exe),
            Some(None)
        );
        assert_eq!(
            mapping_of("7f00-7f10 rw-p 00000000 00:00 0", exe),
            Some(None)
        );
        assert_eq!(mapping_of("Anonymous:             0 kB", exe), None);
        assert_eq!(mapping_of("VmFlags: rd ex mr mw me", exe), None);
    }
}
