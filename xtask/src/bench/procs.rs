//! What a runtime leaves running: the bench's descendants (it is their subreaper, see
//! [`super::spawn::become_subreaper`]), split into the runtime's own processes (in the bench's
//! pid namespace: a monitor, a shim) and the workload (in the container's), and the memory
//! each keeps as `/proc/PID/smaps_rollup` reports it. Both files are parsed by `procfs-core`
//! (the parsing half of the `procfs` crate: the walk over `/proc` stays a plain `read_dir`).

use std::collections::HashMap;

use procfs_core::process::{SmapsRollup, Stat};
use procfs_core::FromRead;
use serde_json::{json, Value};

/// The memory of a process, from `/proc/PID/smaps_rollup` (KiB).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Memory {
    pub rss: u64,
    /// Proportional share: each page divided by the number of processes that map it.
    pub pss: u64,
    /// Pages mapped by this process only (file pages too: a binary no other process maps).
    pub private_clean: u64,
    pub private_dirty: u64,
    /// Anonymous pages (heap, stack, written data): what is this process's alone whoever
    /// else runs the same binary.
    pub anonymous: u64,
}

impl Memory {
    /// `Private_Clean + Private_Dirty`: the goal's measure.
    pub fn private(&self) -> u64 {
        self.private_clean + self.private_dirty
    }

    pub fn read(pid: i32) -> Option<Memory> {
        let rollup = SmapsRollup::from_file(format!("/proc/{pid}/smaps_rollup")).ok()?;
        Some(Memory::of(&rollup))
    }

    /// The figures of the rollup's one entry (procfs-core gives bytes).
    fn of(rollup: &SmapsRollup) -> Memory {
        let fields = rollup
            .memory_map_rollup
            .iter()
            .next()
            .map(|m| &m.extension.map);
        let kib = |key: &str| fields.and_then(|f| f.get(key)).map_or(0, |b| b / 1024);
        Memory {
            rss: kib("Rss"),
            pss: kib("Pss"),
            private_clean: kib("Private_Clean"),
            private_dirty: kib("Private_Dirty"),
            anonymous: kib("Anonymous"),
        }
    }

    pub fn add(self, o: Memory) -> Memory {
        Memory {
            rss: self.rss + o.rss,
            pss: self.pss + o.pss,
            private_clean: self.private_clean + o.private_clean,
            private_dirty: self.private_dirty + o.private_dirty,
            anonymous: self.anonymous + o.anonymous,
        }
    }

    pub fn to_json(self) -> Value {
        json!({
            "rss_kib": self.rss,
            "pss_kib": self.pss,
            "private_clean_kib": self.private_clean,
            "private_dirty_kib": self.private_dirty,
            "anonymous_kib": self.anonymous,
        })
    }
}

/// A live process below the bench.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub comm: String,
    /// In the bench's pid namespace: the runtime's own (monitor, shim); else the workload's.
    pub host_pidns: bool,
}

/// (ppid, state, comm) from `/proc/PID/stat`.
fn stat(pid: i32) -> Option<(i32, char, String)> {
    let s = Stat::from_file(format!("/proc/{pid}/stat")).ok()?;
    Some((s.ppid, s.state, s.comm))
}

fn pidns(pid: &str) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()
}

/// Every live (not zombie) descendant of this process.
pub fn descendants() -> Vec<Proc> {
    let me = std::process::id() as i32;
    let own_ns = pidns("self");
    let mut children: HashMap<i32, Vec<(i32, char, String)>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if let Some((ppid, state, comm)) = stat(pid) {
            children.entry(ppid).or_default().push((pid, state, comm));
        }
    }
    let mut found = Vec::new();
    let mut todo = vec![me];
    while let Some(parent) = todo.pop() {
        for (pid, state, comm) in children.remove(&parent).unwrap_or_default() {
            todo.push(pid);
            if state != 'Z' && state != 'X' {
                found.push(Proc {
                    pid,
                    host_pidns: pidns(&pid.to_string()) == own_ns,
                    comm,
                });
            }
        }
    }
    found.sort_by_key(|p| p.pid);
    found
}

/// The runtime's processes and the workload's, among the bench's descendants.
pub fn split(procs: &[Proc]) -> (Vec<&Proc>, Vec<&Proc>) {
    procs.iter().partition(|p| p.host_pidns)
}

/// The summed memory of `procs` (those that vanished meanwhile count nothing).
pub fn memory_of(procs: &[&Proc]) -> Memory {
    procs
        .iter()
        .filter_map(|p| Memory::read(p.pid))
        .fold(Memory::default(), Memory::add)
}

/// Writes a file's dirty page-cache pages back. A binary just written (box fresh from cargo,
/// busybox just copied) has dirty pages until writeback, and smaps counts a dirty file page
/// mapped by one process as `Private_Dirty`, as if it were the process's own memory.
pub fn flush(path: &std::path::Path) {
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smaps_rollup() {
        let text = "55c0-7ffd ---p 00000000 00:00 0  [rollup]\n\
                    Rss:                2920 kB\nPss:                2193 kB\n\
                    Pss_Anon:            272 kB\nShared_Clean:        768 kB\n\
                    Private_Clean:      1880 kB\nPrivate_Dirty:       272 kB\n\
                    Anonymous:           272 kB\n";
        let m = Memory::of(&SmapsRollup::from_read(text.as_bytes()).unwrap());
        assert_eq!(
            (m.rss, m.pss, m.private(), m.anonymous),
            (2920, 2193, 2152, 272)
        );
    }

    #[test]
    fn finds_its_own_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = descendants();
        let it = found.iter().find(|p| p.pid == child.id() as i32).cloned();
        let rss = Memory::read(child.id() as i32).map(|m| m.rss);
        let _ = child.kill();
        let _ = child.wait();
        let it = it.unwrap();
        assert!(it.host_pidns);
        assert_eq!(it.comm, "sleep");
        assert!(rss.unwrap() > 0);
    }
}
