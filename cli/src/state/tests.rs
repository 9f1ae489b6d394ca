//! The state module on its own: claims, records, half-written and damaged entries, and readers
//! racing a writer. Processes stand in for monitors: this test process (alive) and an
//! identity no process has (a monitor that died).

use std::path::Path;

use super::*;

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn me() -> ProcessId {
    ProcessId::of(std::process::id() as i32).unwrap()
}

/// The identity of a monitor that is gone.
fn dead() -> ProcessId {
    ProcessId {
        start: me().start + 1,
        ..me()
    }
}

/// A spec as box.toml makes it (so the cgroup path is the config's own).
fn spec(dir: &Path, name: &str) -> box_launcher::Spec {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!("name = {name:?}\nrootfs = \"host\"\ncommand = [\"/bin/true\"]\n"),
    )
    .unwrap();
    let loaded = crate::config::load(&file).unwrap();
    let host = crate::config::Host {
        container_pid: &|_| None,
        images: &|_| Err("no images here".into()),
        state_dir: &|name| std::path::Path::new("/nonexistent").join(name),
    };
    let mut plan = crate::config::plan(&loaded, &host).unwrap();
    plan.pop().unwrap().spec
}

/// A root in a temporary directory, and a record of `text` claimed by `monitor`.
fn setup(text: &str, monitor: ProcessId) -> (tempfile::TempDir, Root, State) {
    let tmp = tempfile::tempdir().unwrap();
    let root = Root::new(Some(tmp.path().join("state")));
    let state = State::created(
        &name(text),
        tmp.path(),
        spec(tmp.path(), text),
        Default::default(),
        None,
        monitor,
    );
    (tmp, root, state)
}

#[test]
fn root_prefers_the_flag() {
    let root = Root::new(Some("/x".into()));
    assert_eq!(root.dir(&name("c1")), Path::new("/x/c1"));
}

#[test]
fn the_cgroup_path_box_assumes_for_a_damaged_record_is_the_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(tmp.path(), "c1");
    assert_eq!(spec.cgroup.unwrap().path, cgroup_path(&name("c1")));
}

#[test]
fn missing_container_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Root::new(Some(tmp.path().into()));
    let err = root.entry(&name("nope")).unwrap_err().to_string();
    assert_eq!(err, "no such container: nope");
    assert!(root.lock(&name("nope"), Create::Nothing).is_err());
    assert!(root.lock(&name("nope"), Create::Lock).is_err());
    assert!(!root.dir(&name("nope")).exists());
    assert!(root.names().unwrap().is_empty());
}

#[test]
fn state_is_private_and_listing_skips_strangers() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root, state) = setup("c1", me());
    let owned = root.claim(&state).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&root.0), 0o700);
    assert_eq!(mode(&root.dir(&name("c1"))), 0o700);
    assert_eq!(mode(&root.dir(&name("c1")).join(LOCK)), 0o600);
    std::fs::create_dir(root.0.join("..x")).unwrap();
    std::fs::write(root.0.join("file"), "").unwrap();
    std::os::unix::fs::symlink(root.dir(&name("c1")), root.0.join("link")).unwrap();
    assert_eq!(root.names().unwrap(), vec![name("c1")]);
    owned.release().unwrap();
}

#[test]
fn a_symlinked_container_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let root = Root::new(Some(tmp.path().join("state")));
    std::fs::create_dir(tmp.path().join("state")).unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("state/c1")).unwrap();
    assert!(root.lock(&name("c1"), Create::All).is_err());
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
}

#[test]
fn a_live_monitor_holds_its_name_whatever_its_record_says() {
    let (_tmp, root, state) = setup("c1", me());
    let _owned = root.claim(&state).unwrap();
    let record = root.dir(&name("c1")).join("state.json");
    for damage in [&b""[..], b"{\"name\": \"garbage", b"-"] {
        if damage == b"-" {
            std::fs::remove_file(&record).unwrap();
        } else {
            std::fs::write(&record, damage).unwrap();
        }
        let entry = root.entry(&name("c1")).unwrap();
        assert_eq!(entry.status(), Status::Damaged);
        assert_eq!(entry.live_monitor(), Some(me()), "the lock file names it");
        let err = root.claim(&state).unwrap_err().to_string();
        assert!(err.contains("already in use"), "{err}");
    }
}

#[test]
fn a_dead_claim_does_not_hold_the_name_and_an_exited_one_does() {
    let (_tmp, root, mut state) = setup("c1", dead());
    root.claim(&state).unwrap();
    assert_eq!(root.entry(&name("c1")).unwrap().status(), Status::Dead);
    state.monitor = Some(me());
    let owned = root.claim(&state).expect("a dead entry gives its name up");
    assert_eq!(root.entry(&name("c1")).unwrap().status(), Status::Created);
    state.recorded = Recorded::Exited;
    state.exit_code = Some(3);
    owned.record(&state).unwrap();
    let err = root.claim(&state).unwrap_err().to_string();
    assert!(err.contains("in use by a container (exited)"), "{err}");
}

#[test]
fn half_written_entries_are_listed_as_damaged_and_give_their_name_up() {
    let (_tmp, root, state) = setup("c1", me());
    let dir = root.dir(&name("c1"));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(
        root.names().unwrap(),
        vec![name("c1")],
        "an empty directory"
    );
    let entry = root.entry(&name("c1")).unwrap();
    assert_eq!(entry.status(), Status::Damaged);
    assert!(entry.damage().unwrap().contains("is missing"));
    std::fs::write(dir.join(LOCK), "").unwrap();
    std::fs::write(dir.join("state.json.tmp-1"), "{").unwrap();
    let entry = root.entry(&name("c1")).unwrap();
    assert_eq!(
        (entry.status(), entry.live_monitor()),
        (Status::Damaged, None)
    );
    let owned = root.claim(&state).unwrap();
    assert_eq!(root.entry(&name("c1")).unwrap().status(), Status::Created);
    owned.release().unwrap();
    assert!(!dir.exists());
}

#[test]
fn a_failed_claim_is_undone() {
    let (_tmp, root, state) = setup("c1", me());
    let dir = root.dir(&name("c1"));
    // The record's temporary file cannot be written where a directory is.
    std::fs::create_dir_all(dir.join(format!("state.json.tmp-{}", std::process::id()))).unwrap();
    let err = format!("{:#}", root.claim(&state).unwrap_err());
    assert!(err.contains("container c1: write "), "{err}");
    assert!(!dir.exists(), "the claim left {}", dir.display());
}

#[test]
fn an_exit_that_cannot_replace_the_record_goes_into_the_reserved_slot() {
    let (_tmp, root, mut state) = setup("c1", dead());
    let owned = root.claim(&state).unwrap();
    state.recorded = Recorded::Running;
    state.pid = Some(dead());
    owned.record(&state).unwrap();
    assert_eq!(root.entry(&name("c1")).unwrap().status(), Status::Dead);
    let tmp = root
        .dir(&name("c1"))
        .join(format!("state.json.tmp-{}", std::process::id()));
    std::fs::create_dir(&tmp).unwrap();
    state.recorded = Recorded::Exited;
    state.exit_code = Some(137);
    let why = owned
        .record_exit(&state)
        .unwrap()
        .expect("recorded in the slot");
    assert!(why.contains("state.json.tmp-"), "{why}");
    let entry = root.entry(&name("c1")).unwrap();
    assert_eq!(entry.status(), Status::Exited);
    assert_eq!(entry.state().unwrap().exit_code, Some(137));
    assert!(entry.note.as_deref().unwrap().contains("recorded in"));
    // A new claim of the name does not inherit that exit.
    std::fs::remove_dir(&tmp).unwrap();
    let mut next = state.clone();
    (next.recorded, next.exit_code, next.monitor) = (Recorded::Created, None, Some(dead()));
    std::fs::remove_file(root.dir(&name("c1")).join("state.json")).unwrap();
    root.claim(&next).unwrap();
    assert_eq!(root.entry(&name("c1")).unwrap().status(), Status::Dead);
}

#[test]
fn an_owner_never_writes_into_an_entry_that_is_not_its_claim_any_more() {
    let (_tmp, root, state) = setup("c1", me());
    let owned = root.claim(&state).unwrap();
    root.lock(&name("c1"), Create::Nothing)
        .unwrap()
        .remove()
        .unwrap();
    let mut other = state.clone();
    other.monitor = Some(dead());
    root.claim(&other).unwrap();
    let err = owned.record(&state).unwrap_err().to_string();
    assert!(err.contains("removed meanwhile"), "{err}");
    assert!(owned.release().is_err());
    let entry = root.entry(&name("c1")).unwrap();
    assert_eq!(
        entry.monitor(),
        Some(dead()),
        "the new claim's record stands"
    );
}

#[test]
fn readers_never_miss_a_record_that_is_being_replaced() {
    let (_tmp, root, mut state) = setup("c1", me());
    let owned = root.claim(&state).unwrap();
    let reader_root = root.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reading = stop.clone();
    let reader = std::thread::spawn(move || {
        let mut reads = 0;
        while !reading.load(std::sync::atomic::Ordering::Relaxed) {
            // Without the lock, as `ps` and `inspect` read.
            let entry = Entry::read(&reader_root.dir(&name("c1")), &name("c1"));
            assert!(entry.state().is_some(), "{:?}", entry.damage());
            reads += 1;
        }
        reads
    });
    for i in 0..3000 {
        state.exit_code = Some(i);
        owned.record(&state).unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let left: Vec<_> = std::fs::read_dir(root.dir(&name("c1")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left.len(), 2, "lock and state.json only: {left:?}");
}

#[test]
fn an_entry_whose_claim_has_not_locked_it_yet_is_not_taken_for_abandoned() {
    let (_tmp, root, state) = setup("c1", me());
    let dir = root.dir(&name("c1"));
    // A claimer's first steps, under the root's lock: the directory, then the lock file.
    files::private_dir(&root.0, true).unwrap();
    let root_lock = root.lock_root(FlockArg::LockExclusive).unwrap();
    std::fs::create_dir(&dir).unwrap();
    let reader_root = root.clone();
    let reader = std::thread::spawn(move || reader_root.entry(&name("c1")).unwrap());
    // A reader that did not wait would find an empty directory: a damaged entry.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let file = open_lock(&dir, &name("c1"), Create::All).unwrap();
    let entry_lock = Flock::lock(file, FlockArg::LockExclusive).unwrap();
    drop(root_lock);
    owner::write_claim(&entry_lock, &owner::Claim { monitor: me() }).unwrap();
    record::replace(&dir, &name("c1"), &state).unwrap();
    drop(entry_lock);
    let entry = reader.join().unwrap();
    assert_eq!(entry.status(), Status::Created, "{:?}", entry.damage());
}
