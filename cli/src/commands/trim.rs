//! A detached container's monitor lives as long as the container but runs little of box's
//! code: it gives back the pages of box's binary that starting the container touched, and the
//! memory of its own it no longer uses.

use std::path::Path;

/// Gives back what the start used and the monitor does not: box's code and read-only data,
/// the heap's free pages, the stack below the monitor's frame. The ranges are found first and
/// given back last, so that finding them faults nothing back in.
///
/// `cargo xtask layout` traces the monitor from this function's entry on (the functions run
/// after it go first in box's binary): it must stay a function of its own.
#[inline(never)]
pub fn give_back() {
    let (Ok(exe), Ok(smaps)) = (
        std::fs::read_link("/proc/self/exe"),
        std::fs::read_to_string("/proc/self/smaps"),
    ) else {
        return;
    };
    let code = code_mappings(&smaps, &exe);
    let here = 0u8;
    let stack = unused_stack(&smaps, std::ptr::addr_of!(here) as usize);
    #[cfg(target_env = "gnu")]
    // SAFETY: glibc's own call: it only returns free memory of its heap to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    for (start, end) in code.into_iter().chain(stack) {
        // SAFETY: each range is either a whole mapping of box's file with no private page
        // (code, read-only data: MADV_DONTNEED only unmaps it, and the next access reads it
        // back from the page cache), or the bottom of this thread's stack below its current
        // frame by MARGIN, where no live frame is (it reads as zeroes at its next use, which
        // an unused stack page may hold).
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

/// The mappings of `exe` in `smaps` that hold no page of their own (`Anonymous: 0 kB`: code
/// and read-only data never written). One with a written page (relocations, data) is left
/// alone: giving it back would lose the write.
fn code_mappings(smaps: &str, exe: &Path) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(range) = mapping_of(line, exe) {
            current = range;
        } else if let (Some(range), Some(anon)) = (current, line.strip_prefix("Anonymous:")) {
            current = None;
            if anon.trim() == "0 kB" {
                found.push(range);
            }
        }
    }
    found
}

/// The main thread's stack from its mapping's start up to MARGIN below `sp` (page-aligned):
/// the start's deep calls left those pages resident.
fn unused_stack(smaps: &str, sp: usize) -> Option<(usize, usize)> {
    let start = smaps
        .lines()
        .filter(|l| l.ends_with("[stack]"))
        .find_map(|l| usize::from_str_radix(l.split('-').next()?, 16).ok())?;
    let end = sp.checked_sub(MARGIN)? & !(PAGE - 1);
    (start < end).then_some((start, end))
}

const PAGE: usize = 4096;
/// Room below the frame that gives the stack back for the calls it still makes.
const MARGIN: usize = 16 * 1024;

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

    #[test]
    fn finds_clean_mappings_of_box_and_the_stack_below_the_frame() {
        let exe = Path::new("/usr/bin/box");
        let smaps = "5600-5700 r-xp 00001000 fd:01 123 /usr/bin/box\nAnonymous:  0 kB\n\
                     5700-5800 rw-p 00002000 fd:01 123 /usr/bin/box\nAnonymous:  4 kB\n\
                     7ff00000-7ff21000 rw-p 00000000 00:00 0 [stack]\nAnonymous: 64 kB\n";
        assert_eq!(code_mappings(smaps, exe), [(0x5600, 0x5700)]);
        assert_eq!(
            unused_stack(smaps, 0x7ff1a010),
            Some((0x7ff00000, 0x7ff16000))
        );
        // A frame within MARGIN of the stack's start: nothing to give.
        assert_eq!(unused_stack(smaps, 0x7ff02000), None);
    }
}
