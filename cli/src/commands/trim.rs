//! A detached container's monitor lives as long as the container but runs little of box's
//! code: it gives back the pages of box's binary that starting the container touched, and the
//! memory of its own it no longer uses.

use std::path::Path;

/// Gives back what the start used and the monitor does not: box's code pages, the heap's free
/// pages, the stack below the monitor's. The log thread it starts next allocates from the
/// main heap instead of an arena of its own.
///
/// `cargo xtask layout` traces the monitor from this function's entry on (the functions run
/// after it go first in box's binary): it must stay a function of its own.
#[inline(never)]
pub fn give_back() {
    release_code_pages();
    release_stack_below_here();
    #[cfg(target_env = "gnu")]
    // SAFETY: glibc's own calls: they only change how its allocator keeps free memory.
    unsafe {
        libc::malloc_trim(0);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// The pages of the main thread's stack well below this frame hold nothing any frame uses:
/// the start's deep calls left them resident.
fn release_stack_below_here() {
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    // Room for the calls made from here (the madvise itself): untouched.
    let end = (sp - MARGIN) & !(PAGE - 1);
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let Some(start) = maps
        .lines()
        .filter(|l| l.ends_with("[stack]"))
        .find_map(|l| usize::from_str_radix(l.split('-').next()?, 16).ok())
    else {
        return;
    };
    if start < end && end < sp {
        // SAFETY: [start, end) is the bottom of this thread's own stack mapping, below its
        // current frame by MARGIN: no live frame is there. MADV_DONTNEED makes those pages
        // read as zeroes at their next use, which is what an unused stack page may hold.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

const PAGE: usize = 4096;
const MARGIN: usize = 16 * 1024;

/// Drops from this process's page tables every mapping of box's binary that holds no page of
/// its own (`Anonymous: 0 kB` in smaps: code and read-only data never written). Those pages
/// are the file's, still in the page cache, and the few the monitor uses while it waits fault
/// back in from there. A mapping with a written page (relocations, data) is left alone: giving
/// it back would lose the write.
fn release_code_pages() {
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
