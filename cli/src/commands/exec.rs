//! `box exec NAME CMD...` (or `NAME -- CMD...`): one more process in a running container,
//! with its namespaces, cgroup, root, user, capabilities, seccomp profile and no_new_privs.

use anyhow::{anyhow, Context, Result};
use nix::unistd::Pid;

use crate::name::Name;
use crate::state::Root;

pub fn exec(
    root: &Root,
    name: &Name,
    tty: bool,
    workdir: Option<&str>,
    args: &[String],
) -> Result<i32> {
    let state = root.load(name)?;
    let pid = state.running_pid().ok_or_else(|| {
        anyhow!(
            "container {:?} is not running ({})",
            name.as_str(),
            state.status().as_str()
        )
    })?;
    let container = &state.spec;
    let process = box_launcher::Process {
        args: args.to_vec(),
        env: container.process.env.clone(),
        cwd: workdir.map_or_else(|| container.process.cwd.clone(), Into::into),
        tty,
    };
    let running = match box_launcher::exec(container, Pid::from_raw(pid), process) {
        Ok(running) => running,
        Err(e) => {
            eprintln!("box: {e}");
            return Ok(e.exit_code());
        }
    };
    let outcome = running
        .supervise()
        .with_context(|| format!("exec in container {:?}", name.as_str()))?;
    if let Some(why) = &outcome.teardown_error {
        eprintln!("box: exec in container {name}: {why}");
    }
    Ok(outcome.exit_code())
}
