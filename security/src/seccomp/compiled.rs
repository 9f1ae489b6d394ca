//! A compiled filter: its instructions, how it is installed, and what it does to a syscall.

use super::bpf::{self, SeccompData};
use super::{syscall_number, Action, Arch};
use crate::error::{Error, Result};

/// A compiled filter, ready to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub(super) arch: Arch,
    pub(super) program: Vec<seccompiler::sock_filter>,
    pub(super) flags: u32,
    pub(super) warnings: Vec<String>,
}

impl Compiled {
    /// The architecture the filter is for.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The BPF instructions.
    pub fn instructions(&self) -> &[seccompiler::sock_filter] {
        &self.program
    }

    /// `SECCOMP_FILTER_FLAG_*` bits the filter is installed with.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Things the profile asked for that box does differently (e.g. compat ABIs it kills).
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
        let nr = syscall_number(self.arch, name)?;
        let data = SeccompData {
            nr,
            arch: self.arch.audit_arch(),
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
