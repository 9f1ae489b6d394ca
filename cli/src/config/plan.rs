//! Several containers in one file: each converted and checked before anything starts, and an
//! order in which each container starts after the ones whose namespaces it joins.

use std::path::PathBuf;

use box_launcher::Spec;
use box_ns::{Kind, Mode};

use super::image::Resolved;
use super::to_spec::{given, key, to_spec, Ctx, Host, CONTAINER_PREFIX};
use super::{ConfigError, Loaded, Seg};
use crate::name::Name;

/// One container, converted and checked, waiting for the containers it joins to start.
#[derive(Debug)]
pub struct Planned {
    pub spec: Spec,
    /// How `box stop` ends it: `stop_signal`, `stop_timeout`.
    pub stop: super::Stop,
    /// The image it runs on, if any: what its record names, and the store held until then.
    pub image: Option<Resolved>,
    /// Its place in the file (0 for the first container the file defines).
    pub index: usize,
    /// Namespaces it joins from containers of the same file, which do not run yet: each
    /// points at a placeholder until [`Planned::resolve`].
    pub joins: Vec<(Kind, String)>,
}

impl Planned {
    /// The spec to start, each join pointed at the namespace of the (now running) container
    /// it names; `pid_of` gives a running container's PID 1.
    pub fn resolve(self, pid_of: &dyn Fn(&str) -> Option<i32>) -> Result<Spec, String> {
        let mut spec = self.spec;
        for (kind, other) in &self.joins {
            let pid = pid_of(other).ok_or_else(|| {
                format!(
                    "container {other} is not running, so {} cannot join its {kind} namespace",
                    spec.name
                )
            })?;
            spec.namespaces.set(
                *kind,
                Mode::Join(PathBuf::from(format!("/proc/{pid}/ns/{kind}"))),
            );
        }
        Ok(spec)
    }
}

/// Every container of the file, converted and checked, in start order. Nothing starts here:
/// a bad value, a cycle of joins or a join of a container that is neither in the file nor
/// running is an error before any container exists. `container_pid` gives the PID 1 of a
/// running container, for joins of containers outside the file.
pub fn plan(loaded: &Loaded, host: &Host<'_>) -> Result<Vec<Planned>, ConfigError> {
    let container_pid = host.container_pid;
    let defs = loaded.containers();
    let several = !defs[0].prefix.is_empty();
    if several {
        for def in defs {
            check_table(loaded, def, defs.len())?;
        }
    }
    let in_file = |name: &str| several && defs.iter().any(|d| d.name.as_deref() == Some(name));
    let resolve = |other: &str, kind: Kind| {
        if in_file(other) {
            // Known only once `other` runs: see `Planned::resolve`.
            return Ok(PathBuf::from(format!("{CONTAINER_PREFIX}{other}")));
        }
        match container_pid(other) {
            Some(pid) => Ok(PathBuf::from(format!("/proc/{pid}/ns/{kind}"))),
            None if several => Err(format!(
                "no container named {other:?} in this file, and no running container of that name"
            )),
            None => Err(format!("no running container named {other:?}")),
        }
    };
    start_order(loaded)?
        .into_iter()
        .map(|i| {
            let def = &defs[i];
            let c = Ctx::new(loaded, def);
            let name = if several { def.name.as_deref() } else { None };
            let (spec, image) = to_spec(&c, name, &resolve, host)?;
            let stop = super::stop::stop(&c)?;
            let joins = references(loaded, i)
                .into_iter()
                .filter(|(_, _, other)| in_file(other))
                .map(|(kind, _, other)| (kind, other))
                .collect();
            Ok(Planned {
                spec,
                stop,
                image,
                index: i,
                joins,
            })
        })
        .collect()
}

/// A `[containers.NAME]` table: a valid name, a `name` key that agrees, and no terminal when
/// there are several (they run detached).
fn check_table(loaded: &Loaded, def: &super::Def, count: usize) -> Result<(), ConfigError> {
    let c = Ctx::new(loaded, def);
    let name = def.name.as_deref().unwrap_or_default();
    Name::parse(name).map_err(|e| c.error_at(&[], e.to_string()))?;
    if let Some(inner) = def.body.name.as_deref().filter(|n| *n != name) {
        return Err(c.err(
            &["name"],
            format!("{inner:?} differs from the table's name {name:?}: a container under [containers.NAME] is named by its table (leave this key out)"),
        ));
    }
    if def.body.tty && count > 1 {
        return Err(c.err(
            &["tty"],
            "several containers run detached, without a terminal: drop this key (or run this container from a file of its own)",
        ));
    }
    Ok(())
}

/// The `container:NAME` references of the file's `index`-th container: kind, key path, NAME.
fn references(loaded: &Loaded, index: usize) -> Vec<(Kind, Vec<Seg>, String)> {
    let def = &loaded.containers()[index];
    let mut refs: Vec<_> = given(&def.body.namespaces)
        .into_iter()
        .filter_map(|(kind, value)| {
            let other = value?.strip_prefix(CONTAINER_PREFIX)?;
            let path = Ctx::new(loaded, def).full(&key(&["namespaces", kind.proc_name()]));
            Some((kind, path, other.to_string()))
        })
        .collect();
    // `[network] mode = "container:NAME"` joins NAME's net namespace just the same.
    let mode = def.body.network.as_ref().and_then(|n| n.mode.as_deref());
    if let Some(other) = mode.and_then(|m| m.strip_prefix(CONTAINER_PREFIX)) {
        let path = Ctx::new(loaded, def).full(&key(&["network", "mode"]));
        refs.push((Kind::Net, path, other.to_string()));
    }
    refs
}

/// The file's containers (indices into [`Loaded::containers`]) in start order: each after
/// the containers of the file it joins, otherwise in the order the file lists them. A cycle
/// of joins is an error on the key that closes it.
pub fn start_order(loaded: &Loaded) -> Result<Vec<usize>, ConfigError> {
    let defs = loaded.containers();
    // The single-container form names no container of the file: its joins are all outside.
    if defs[0].prefix.is_empty() {
        return Ok(vec![0]);
    }
    // For each container: (index of the container it joins, the key that says so, value).
    let deps: Vec<Vec<(usize, Vec<Seg>, String)>> = (0..defs.len())
        .map(|i| {
            references(loaded, i)
                .into_iter()
                .filter_map(|(_, path, other)| {
                    let j = defs
                        .iter()
                        .position(|d| d.name.as_deref() == Some(&other))?;
                    Some((j, path, other))
                })
                .collect()
        })
        .collect();
    let mut order = Vec::with_capacity(defs.len());
    let mut mark = vec![Mark::New; defs.len()];
    let mut stack = Vec::new();
    for i in 0..defs.len() {
        visit(i, &deps, &mut mark, &mut stack, &mut order).map_err(|(path, cycle)| {
            let names: Vec<&str> = cycle
                .iter()
                .map(|&k| defs[k].name.as_deref().unwrap_or_default())
                .collect();
            let other = names.last().copied().unwrap_or_default();
            loaded.error_at(
                &path,
                format!(
                    "\"{CONTAINER_PREFIX}{other}\" closes a cycle ({}): a container can only join one that starts before it",
                    names.join(" → ")
                ),
            )
        })?;
    }
    Ok(order)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    New,
    Visiting,
    Done,
}

/// Depth-first: `i` goes into `order` after everything it joins. On a cycle, the key that
/// closes it and the cycle's containers (first one repeated at the end).
fn visit(
    i: usize,
    deps: &[Vec<(usize, Vec<Seg>, String)>],
    mark: &mut [Mark],
    stack: &mut Vec<usize>,
    order: &mut Vec<usize>,
) -> Result<(), (Vec<Seg>, Vec<usize>)> {
    if mark[i] == Mark::Done {
        return Ok(());
    }
    mark[i] = Mark::Visiting;
    stack.push(i);
    for (j, path, _) in &deps[i] {
        match mark[*j] {
            Mark::Visiting => {
                let from = stack.iter().position(|k| k == j).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(*j);
                return Err((path.clone(), cycle));
            }
            Mark::New => visit(*j, deps, mark, stack, order)?,
            Mark::Done => {}
        }
    }
    stack.pop();
    mark[i] = Mark::Done;
    order.push(i);
    Ok(())
}
