//! The device policy against this machine's real cgroups (root only): a forked child placed
//! in the cgroup opens and creates device nodes, and the kernel's answers are checked. Each
//! test makes its own `box/test-dev-<pid>-<n>` and removes it, even when it fails.
//!
//! On a hybrid host (v1 devices controller plus cgroup2) the v1 files and the BPF program
//! are first tried apart — a layout of only the devices hierarchy, then one of only the
//! unified one — and then together, as box uses them.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use box_cgroup::{
    device_programs, Cgroup, Controller, DeviceAccess, DeviceRule, Layout, Location, Resources,
    DEFAULT_DEVICE_RULES,
};
use nix::errno::Errno;
use nix::sys::stat::{makedev, SFlag};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, ForkResult};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn name() -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    PathBuf::from(format!("box/test-dev-{}-{n}", std::process::id()))
}

fn host() -> Layout {
    assert!(
        nix::unistd::geteuid().is_root(),
        "device policy tests need root (cgroups, bpf(2), mknod)"
    );
    Layout::detect().expect("detect cgroups")
}

/// This host's v1 devices hierarchy alone.
fn v1_devices_only(layout: &Layout) -> Layout {
    let Some(Location::V1(mount)) = layout.location(Controller::Devices) else {
        panic!("this test needs the v1 devices controller (a hybrid or v1 host)");
    };
    Layout::v1(BTreeMap::from([(Controller::Devices, mount.to_path_buf())]))
}

/// This host's cgroup2 hierarchy alone: what a pure v2 host has.
fn unified_only(layout: &Layout) -> Layout {
    let root = layout.v2_root().expect("this test needs cgroup2 mounted");
    Layout::v2(root.to_path_buf()).expect("read cgroup.controllers")
}

fn policy(rules: &[DeviceRule]) -> Resources {
    Resources {
        devices: Some(rules.to_vec()),
        ..Default::default()
    }
}

/// Destroys the cgroup when a test panics half-way.
struct Cleanup(Option<Cgroup>);
impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(cg) = self.0.take() {
            let _ = cg.destroy();
        }
    }
}

enum Op {
    Open(CString, libc::c_int),
    Mknod(CString, libc::mode_t, libc::dev_t),
}

fn open(path: &str, flags: libc::c_int) -> Op {
    Op::Open(CString::new(path).unwrap(), flags)
}

fn mknod(path: &Path, kind: SFlag, major: u64, minor: u64) -> Op {
    let path = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    Op::Mknod(path, kind.bits() | 0o600, makedev(major, minor))
}

/// Forks a child, puts it into `cg`, and has it run `ops`; returns each one's errno
/// (0 = it worked). The child makes only raw syscalls (the test process has threads).
fn errnos_in(cg: &Cgroup, ops: &[Op]) -> Vec<i32> {
    assert!(ops.len() <= 8);
    let (go_r, go_w) = pipe().unwrap();
    let (res_r, res_w) = pipe().unwrap();
    // SAFETY: the child only calls async-signal-safe functions (read, open, close, mknod,
    // write, _exit) on memory prepared before the fork.
    match unsafe { fork() }.unwrap() {
        // SAFETY: as above; the child's syscalls touch only memory prepared before the fork.
        ForkResult::Child => unsafe {
            let mut byte = 0u8;
            libc::read(go_r.as_raw_fd(), (&mut byte as *mut u8).cast(), 1);
            let mut out = [0i32; 8];
            for (slot, op) in out.iter_mut().zip(ops) {
                let rc = match op {
                    Op::Open(p, flags) => {
                        let fd = libc::open(p.as_ptr(), *flags | libc::O_CLOEXEC);
                        if fd >= 0 {
                            libc::close(fd);
                        }
                        fd
                    }
                    Op::Mknod(p, mode, dev) => libc::mknod(p.as_ptr(), *mode, *dev),
                };
                *slot = if rc < 0 { *libc::__errno_location() } else { 0 };
            }
            libc::write(
                res_w.as_raw_fd(),
                out.as_ptr().cast(),
                std::mem::size_of_val(&out),
            );
            libc::_exit(0)
        },
        ForkResult::Parent { child } => {
            drop((go_r, res_w));
            let joined = cg.add_process(child);
            nix::unistd::write(&go_w, b"g").unwrap();
            let mut buf = [0u8; 32];
            let n = read_all(&res_r, &mut buf);
            assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            joined.unwrap();
            assert_eq!(n, 32, "the child reported");
            buf.chunks(4)
                .take(ops.len())
                .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
                .collect()
        }
    }
}

fn read_all(fd: &OwnedFd, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match nix::unistd::read(fd, &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::EINTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    n
}

const EPERM: i32 = libc::EPERM;

/// Opens /dev/null (allowed) and /dev/zero (not) read-write, and creates nodes in `dir`:
/// c 1:3 and b 7:200 (a loop device number; `mknod` is allowed for any device by the
/// policies below), then opens those.
fn probe(cg: &Cgroup, dir: &Path) -> Vec<i32> {
    let (null, blk) = (dir.join("null"), dir.join("blk"));
    errnos_in(
        cg,
        &[
            open("/dev/null", libc::O_RDWR),
            open("/dev/zero", libc::O_RDWR),
            open("/dev/zero", libc::O_RDONLY),
            mknod(&null, SFlag::S_IFCHR, 1, 3),
            mknod(&blk, SFlag::S_IFBLK, 7, 200),
            open(null.to_str().unwrap(), libc::O_RDWR),
            open(blk.to_str().unwrap(), libc::O_RDONLY),
        ],
    )
}

/// Null allowed, zero denied (rw and r), both mknods allowed, the made null opens, the
/// made block device does not.
const DEFAULT_ANSWERS: [i32; 7] = [0, EPERM, EPERM, 0, 0, 0, EPERM];

fn only_null() -> Vec<DeviceRule> {
    let mut rules = DEFAULT_DEVICE_RULES[..3].to_vec();
    rules.push(DeviceRule::char(Some(1), Some(5), DeviceAccess::WRITE));
    rules
}

#[test]
fn v1_devices_list_is_exactly_the_policy_and_enforced() {
    let layout = v1_devices_only(&host());
    let rules = only_null();
    let cg = Cgroup::create(&layout, &name(), &policy(&rules)).unwrap();
    let cg = Cleanup(Some(cg));
    let cg = cg.0.as_ref().unwrap();
    let dir = cg.dir_of(Controller::Devices).unwrap();
    let list = std::fs::read_to_string(dir.join("devices.list")).unwrap();
    assert_eq!(list, "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 w\n");
    let limits = cg.read_limits().unwrap();
    assert_eq!(limits.devices.as_deref(), Some(&rules[..]));
    assert!(limits.mismatches(&policy(&rules)).is_empty());
    let tmp = tempfile::tempdir().unwrap();
    // /dev/zero may be written (w) but not opened read-write or read-only.
    assert_eq!(probe(cg, tmp.path()), DEFAULT_ANSWERS);
}

#[test]
fn bpf_program_alone_enforces_the_policy() {
    let layout = unified_only(&host());
    let cg = Cgroup::create(&layout, &name(), &policy(&only_null())).unwrap();
    let cg = Cleanup(Some(cg));
    let cg = cg.0.as_ref().unwrap();
    assert_eq!(device_programs(cg.v2_fd().unwrap()), Ok(1));
    // No v1 devices directory: nothing to list, the program decides alone.
    assert_eq!(cg.read_limits().unwrap().devices, None);
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(probe(cg, tmp.path()), DEFAULT_ANSWERS);

    // Without `m` rules, even mknod is refused.
    let no_mknod = [DeviceRule::char(Some(1), Some(3), DeviceAccess::RW)];
    cg.apply(&policy(&no_mknod)).unwrap();
    assert_eq!(
        device_programs(cg.v2_fd().unwrap()),
        Ok(1),
        "replaced, not added"
    );
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        probe(cg, tmp.path()),
        [0, EPERM, EPERM, EPERM, EPERM, ENOENT, ENOENT]
    );
}

const ENOENT: i32 = libc::ENOENT;

#[test]
fn hybrid_applies_both_and_the_defaults_hold() {
    let layout = host();
    let cg = Cgroup::create(&layout, &name(), &policy(&DEFAULT_DEVICE_RULES)).unwrap();
    let cg = Cleanup(Some(cg));
    let cg = cg.0.as_ref().unwrap();
    if layout.has(Controller::Devices) {
        let limits = cg.read_limits().unwrap();
        assert_eq!(limits.devices.as_deref(), Some(&DEFAULT_DEVICE_RULES[..]));
    }
    if let Some(fd) = cg.v2_fd() {
        assert_eq!(device_programs(fd), Ok(1));
    }
    let tmp = tempfile::tempdir().unwrap();
    let kmsg = tmp.path().join("kmsg");
    let answers = errnos_in(
        cg,
        &[
            open("/dev/null", libc::O_RDWR),
            open("/dev/full", libc::O_WRONLY),
            open("/dev/urandom", libc::O_RDONLY),
            mknod(&kmsg, SFlag::S_IFCHR, 1, 11),
            open(kmsg.to_str().unwrap(), libc::O_WRONLY),
            open("/dev/kmsg", libc::O_RDONLY),
            open("/dev/loop-control", libc::O_RDWR),
        ],
    );
    assert_eq!(answers, [0, 0, 0, 0, EPERM, EPERM, EPERM]);
}

/// The launcher's order: the cgroup made without its cgroup2 program, which is attached
/// later (while the container's process sets itself up). The v1 files are written at once:
/// writing them denies everything for a moment, which must not happen while a process of
/// the cgroup opens a device (it did: `box up -t` failed to open `/dev/ptmx`, now and then).
#[test]
fn a_deferred_policy_holds_only_once_applied() {
    let layout = host();
    let prepared = box_cgroup::prepare(&name(), &policy(&DEFAULT_DEVICE_RULES)).unwrap();
    assert_eq!(prepared.defers_devices(), layout.v2_root().is_some());
    let cg = Cleanup(Some(prepared.create_deferred().unwrap()));
    let cg = cg.0.as_ref().unwrap();
    let kmsg = || errnos_in(cg, &[open("/dev/kmsg", libc::O_RDONLY)]);
    if let Some(fd) = cg.v2_fd() {
        assert_eq!(device_programs(fd), Ok(0), "no program yet");
    }
    if layout.has(Controller::Devices) {
        let limits = cg.read_limits().unwrap();
        assert_eq!(limits.devices.as_deref(), Some(&DEFAULT_DEVICE_RULES[..]));
        assert_eq!(kmsg(), [EPERM], "the v1 policy, from the start");
    } else {
        assert_eq!(kmsg(), [0], "no policy yet");
    }
    assert_eq!(
        prepared.apply_devices(cg).unwrap(),
        prepared.defers_devices()
    );
    if let Some(fd) = cg.v2_fd() {
        assert_eq!(device_programs(fd), Ok(1));
    }
    assert_eq!(kmsg(), [EPERM]);
}

#[test]
fn a_host_with_no_way_to_enforce_it_is_refused() {
    // A v1 layout without the devices controller and no cgroup2: nothing can enforce it.
    let layout = Layout::v1(BTreeMap::new());
    let err = policy(&DEFAULT_DEVICE_RULES).validate(&layout).unwrap_err();
    assert_eq!(err.field, "devices");
    let narrowed: DeviceRule = "a *:* m".parse().unwrap();
    let err = policy(&[narrowed]).validate(&host()).unwrap_err();
    assert!(err.message.contains("cannot be narrowed"), "{err}");
}
