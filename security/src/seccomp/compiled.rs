//! A compiled filter: its instructions, how it is installed, and what it does to a syscall.

use super::bpf::{self, SeccompData};
use super::{syscall_number, Action, Arch};
use crate::error::{Error, Result};

/// A compiled filter, ready to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub(super) arch: Arch,
    /// The ABIs the filter covers, native first; others are killed.
    pub(super) arches: Vec<Arch>,
    pub(super) program: Vec<seccompiler::sock_filter>,
    pub(super) flags: u32,
    pub(super) warnings: Vec<String>,
}

impl Compiled {
    /// The native architecture the filter is for.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The ABIs whose syscalls follow the profile, the native one first (e.g. `[X86_64,
    /// I386]`); a syscall from any other ABI kills the process.
    pub fn arches(&self) -> &[Arch] {
        &self.arches
    }

    /// The BPF instructions.
    pub fn instructions(&self) -> &[seccompiler::sock_filter] {
        &self.program
    }

    /// `SECCOMP_FILTER_FLAG_*` bits the filter is installed with.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Things the profile asked for that box does differently (e.g. x32, which it kills).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Runs the filter on `data` as the kernel would.
    pub fn evaluate(&self, data: &SeccompData) -> Result<Action> {
        let ret = bpf::run(&self.program, data).map_err(|message| Error::FilterCompile {
            origin: "compiled filter".to_string(),
            message,
        })?;
        Action::from_ret(ret).ok_or_else(|| Error::FilterCompile {
            origin: "compiled filter".to_string(),
            message: format!("unexpected return value {ret:#x}"),
        })
    }

    /// What happens to native syscall `name` with `args`; `None` if `name` is unknown here.
    pub fn action_for(&self, name: &str, args: [u64; 6]) -> Option<Action> {
        self.action_for_arch(self.arch, name, args)
    }

    /// What happens to syscall `name` made through ABI `arch` (e.g. [`Arch::I386`] on
    /// x86_64); `None` if `arch` has no syscall of that name.
    pub fn action_for_arch(&self, arch: Arch, name: &str, args: [u64; 6]) -> Option<Action> {
        let nr = syscall_number(arch, name)?;
        let data = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        };
        self.evaluate(&data).ok()
    }

    /// The program in the kernel's struct layout.
    pub(crate) fn to_kernel(&self) -> Vec<libc::sock_filter> {
        self.program
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect()
    }
}
