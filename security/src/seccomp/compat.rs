//! What a syscall name means on one ABI: its own number, and on i386 also a call through one
//! of the two multiplexers (`socketcall`, `ipc`), as libseccomp resolves it. A rule on
//! `connect` that missed `socketcall(SYS_CONNECT, ...)` would let a 32-bit program around it.

use std::sync::OnceLock;

use super::{syscall_number, Arch, ArgCondition, CmpOp, NameMap};

/// i386's `socketcall` and its call numbers (include/uapi/linux/net.h).
const SOCKETCALL: u32 = 102;
#[rustfmt::skip]
const SOCKET_CALLS: &[(&str, u32)] = &[
    ("socket", 1), ("bind", 2), ("connect", 3), ("listen", 4), ("accept", 5),
    ("getsockname", 6), ("getpeername", 7), ("socketpair", 8), ("send", 9), ("recv", 10),
    ("sendto", 11), ("recvfrom", 12), ("shutdown", 13), ("setsockopt", 14), ("getsockopt", 15),
    ("sendmsg", 16), ("recvmsg", 17), ("accept4", 18), ("recvmmsg", 19), ("sendmmsg", 20),
];

/// i386's `ipc` and its call numbers (include/linux/ipc.h).
const IPC: u32 = 117;
#[rustfmt::skip]
const IPC_CALLS: &[(&str, u32)] = &[
    ("semop", 1), ("semget", 2), ("semctl", 3), ("semtimedop", 4), ("msgsnd", 11),
    ("msgrcv", 12), ("msgget", 13), ("msgctl", 14), ("shmat", 21), ("shmdt", 22),
    ("shmget", 23), ("shmctl", 24),
];

/// Bit 30 of the syscall number marks the x32 ABI on x86_64 (same `AUDIT_ARCH_X86_64`).
pub(super) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// A call through a multiplexer: syscall `nr` whose first argument selects `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Muxed {
    /// The multiplexer's name.
    pub(super) via: &'static str,
    pub(super) nr: u32,
    /// The condition on argument 0 that selects the call.
    pub(super) selector: ArgCondition,
}

/// How `name` can be called on `arch`: its own number, and the multiplexed call, if any.
pub(super) fn targets(arch: Arch, name: &str) -> (Option<u32>, Option<Muxed>) {
    (syscall_number(arch, name), muxed(arch, name))
}

/// Whether `name` can be called on `arch` at all.
pub(super) fn exists(arch: Arch, name: &str) -> bool {
    let (direct, muxed) = targets(arch, name);
    direct.is_some() || muxed.is_some()
}

/// Whether `name` is a multiplexed call on any ABI (`send` and `recv` exist only that way).
pub(super) fn known_muxed(name: &str) -> bool {
    muxed(Arch::I386, name).is_some()
}

fn muxed(arch: Arch, name: &str) -> Option<Muxed> {
    // Asked for every name of every rule: a map, not a scan of both tables.
    static MUXED: OnceLock<NameMap<Muxed>> = OnceLock::new();
    if arch != Arch::I386 {
        return None;
    }
    MUXED.get_or_init(muxed_table).get(name).copied()
}

fn muxed_table() -> NameMap<Muxed> {
    // The kernel refuses any socketcall number but 1..=20, so equality is exact.
    let sockets = SOCKET_CALLS.iter().map(|&(name, call)| {
        let selector = selector(CmpOp::Eq, u64::from(call), 0);
        (
            name,
            Muxed {
                via: "socketcall",
                nr: SOCKETCALL,
                selector,
            },
        )
    });
    // `ipc` reads the call from the low 16 bits and a version from the high 16: compare the
    // call alone, or `ipc(0x1000c, ...)` (msgrcv, version 1) would slip past `== 12`.
    let ipcs = IPC_CALLS.iter().map(|&(name, call)| {
        let selector = selector(CmpOp::MaskedEq, 0xffff, u64::from(call));
        (
            name,
            Muxed {
                via: "ipc",
                nr: IPC,
                selector,
            },
        )
    });
    sockets.chain(ipcs).collect()
}

fn selector(op: CmpOp, value: u64, value_two: u64) -> ArgCondition {
    ArgCondition {
        index: 0,
        op,
        value,
        value_two,
        low32: true,
    }
}

/// A rule's conditions as compared on `arch`: a 32-bit ABI's syscalls see only the low half
/// of each argument register (the upper half may hold anything after `int 0x80` from 64-bit
/// code), so they are compared on 32 bits, as libseccomp does for 32-bit architectures.
pub(super) fn conditions_for(arch: Arch, conditions: &[ArgCondition]) -> Vec<ArgCondition> {
    conditions
        .iter()
        .map(|c| ArgCondition {
            low32: c.low32 || !arch.is_64bit(),
            ..*c
        })
        .collect()
}
