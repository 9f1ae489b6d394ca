//! The last step: `execve` of the user's command, resolved in the container's `PATH`.

use std::ffi::{CStr, CString};

use nix::errno::Errno;
use nix::unistd::execve;

use crate::spec::{Process, DEFAULT_PATH};

/// Everything `execve` needs, built in the parent so the child only walks prepared strings.
pub(crate) struct ExecPlan {
    /// Where `args[0]` may be, in `PATH` order (just `args[0]` when it contains a `/`).
    pub candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub shown: String,
}

/// A NUL inside an argument or variable: the kernel could not be given it.
#[derive(Debug)]
pub(crate) struct NulInArgument(pub String);

impl ExecPlan {
    pub(crate) fn new(process: &Process) -> Result<ExecPlan, NulInArgument> {
        let cstring = |s: &str| CString::new(s).map_err(|_| NulInArgument(s.to_string()));
        let argv = process
            .args
            .iter()
            .map(|a| cstring(a))
            .collect::<Result<Vec<_>, _>>()?;
        let envp = process
            .env
            .iter()
            .map(|e| cstring(e))
            .collect::<Result<Vec<_>, _>>()?;
        let program = process.args.first().map(String::as_str).unwrap_or("");
        let candidates = if program.contains('/') {
            vec![cstring(program)?]
        } else {
            let path = process
                .env
                .iter()
                .find_map(|e| e.strip_prefix("PATH="))
                .unwrap_or(DEFAULT_PATH);
            path.split(':')
                .filter(|dir| !dir.is_empty())
                .map(|dir| cstring(&format!("{dir}/{program}")))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(ExecPlan {
            candidates,
            argv,
            envp,
            shown: program.to_string(),
        })
    }

    /// Tries each candidate as `execvp` does; returns only on failure, with the errno that
    /// matters most (a found-but-not-executable file beats "not found").
    pub(crate) fn exec(&self) -> Errno {
        let mut worst = Errno::ENOENT;
        for path in &self.candidates {
            let err = match execve::<&CStr, &CStr>(
                path,
                &self.argv.iter().map(|a| a.as_c_str()).collect::<Vec<_>>(),
                &self.envp.iter().map(|e| e.as_c_str()).collect::<Vec<_>>(),
            ) {
                Err(errno) => errno,
                Ok(never) => match never {},
            };
            match err {
                Errno::ENOENT | Errno::ENOTDIR => {}
                Errno::EACCES => worst = Errno::EACCES,
                other => return other,
            }
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(args: &[&str], env: &[&str]) -> Process {
        Process {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            cwd: "/".into(),
            tty: false,
        }
    }

    #[test]
    fn bare_names_are_looked_up_in_the_containers_path() {
        let plan = ExecPlan::new(&process(&["sh"], &["PATH=/a:/b"])).unwrap();
        assert_eq!(plan.candidates, [c"/a/sh".to_owned(), c"/b/sh".to_owned()]);
        let plan = ExecPlan::new(&process(&["sh"], &[])).unwrap();
        assert_eq!(plan.candidates.len(), DEFAULT_PATH.split(':').count());
    }

    #[test]
    fn paths_are_taken_as_they_are() {
        let plan = ExecPlan::new(&process(&["./run", "x"], &["PATH=/a"])).unwrap();
        assert_eq!(plan.candidates, [c"./run".to_owned()]);
    }

    #[test]
    fn nul_is_refused() {
        assert!(ExecPlan::new(&process(&["a\0b"], &[])).is_err());
    }
}
