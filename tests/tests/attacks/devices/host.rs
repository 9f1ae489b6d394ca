//! The host side of the device attacks: loop devices over files of known content, the
//! kernel log, and the container's cgroup as the kernel shows it.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A loop device over a file whose content the test knows; detached when dropped.
pub struct Loop {
    _dir: tempfile::TempDir,
    pub dev: PathBuf,
    pub content: Vec<u8>,
}

impl Loop {
    /// A 64 KiB file of `tag` repeated, attached with `losetup --find --show`.
    pub fn new(tag: &str) -> Loop {
        let dir = tempfile::Builder::new()
            .prefix("boxtest-loop-")
            .tempdir()
            .expect("create a temporary directory");
        let file = dir.path().join("disk");
        let content: Vec<u8> = format!("{tag}-").bytes().cycle().take(64 << 10).collect();
        std::fs::write(&file, &content).expect("write the backing file");
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&file)
            .output()
            .expect("run losetup (util-linux)");
        assert!(
            out.status.success(),
            "losetup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Loop {
            _dir: dir,
            dev,
            content,
        }
    }

    /// Its major and minor numbers.
    pub fn numbers(&self) -> (u32, u32) {
        let rdev = std::fs::metadata(&self.dev)
            .expect("stat loop device")
            .rdev();
        (libc::major(rdev), libc::minor(rdev))
    }

    /// What the host reads from the device now (its page cache: a write through any node
    /// of this device shows here at once).
    pub fn read(&self) -> Vec<u8> {
        let mut f = std::fs::File::open(&self.dev).expect("open loop device");
        let mut buf = vec![0; self.content.len()];
        f.read_exact(&mut buf).expect("read loop device");
        buf
    }

    pub fn assert_unchanged(&self) {
        assert!(
            self.read() == self.content,
            "{} was changed from inside the container",
            self.dev.display()
        );
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

/// The host's own disk (the first block device that is not a loop, ram or zram one).
pub fn host_disk() -> (u32, u32) {
    let entries = std::fs::read_dir("/sys/block").expect("read /sys/block");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if ["loop", "ram", "zram"].iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let dev = std::fs::read_to_string(entry.path().join("dev")).expect("read dev");
        let (major, minor) = dev.trim().split_once(':').expect("MAJOR:MINOR");
        return (major.parse().unwrap(), minor.parse().unwrap());
    }
    panic!("this host has no disk in /sys/block to test against");
}

/// Whether a record of the host's kernel log contains `marker`.
pub fn kernel_log_contains(marker: &str) -> bool {
    let mut kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .expect("open the host's /dev/kmsg");
    let mut buf = vec![0; 8192];
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) if String::from_utf8_lossy(&buf[..n]).contains(marker) => return true,
            Ok(_) => {}
            // EPIPE: records were overwritten while reading; go on with the next.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) => panic!("read /dev/kmsg: {e}"),
        }
    }
}

/// The container's cgroup directories: (v1 devices, unified), where the host has them.
pub fn cgroup_dirs(name: &str) -> (Option<PathBuf>, Option<PathBuf>) {
    let (mut devices, mut unified) = (None, None);
    for m in box_tests::mounts() {
        let dir = m.mount_point.join("box").join(name);
        match m.fstype.as_str() {
            "cgroup" if m.super_options.split(',').any(|o| o == "devices") => {
                devices.get_or_insert(dir);
            }
            "cgroup2" => {
                unified.get_or_insert(dir);
            }
            _ => {}
        }
    }
    (devices, unified)
}

/// How many device programs are attached to the cgroup2 directory `dir` itself
/// (`BPF_PROG_QUERY`, attach type `BPF_CGROUP_DEVICE`).
pub fn device_programs(dir: &Path) -> usize {
    #[repr(C)]
    struct Query {
        target_fd: u32,
        attach_type: u32,
        query_flags: u32,
        attach_flags: u32,
        prog_ids: u64,
        prog_cnt: u32,
        pad: u32,
    }
    let fd = std::fs::File::open(dir).expect("open the unified cgroup directory");
    let mut ids = [0u32; 64];
    let mut query = Query {
        target_fd: std::os::fd::AsRawFd::as_raw_fd(&fd) as u32,
        attach_type: 6, // BPF_CGROUP_DEVICE
        query_flags: 0,
        attach_flags: 0,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        pad: 0,
    };
    // SAFETY: BPF_PROG_QUERY (16) with its part of union bpf_attr, whose id buffer outlives
    // the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            16,
            &mut query as *mut Query,
            std::mem::size_of::<Query>(),
        )
    };
    assert_eq!(rc, 0, "BPF_PROG_QUERY: {}", std::io::Error::last_os_error());
    query.prog_cnt as usize
}
