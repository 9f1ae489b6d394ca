//! An fd of a host directory that box's caller leaked to it (not close-on-exec), walked from
//! inside the container through every fd under `/proc/self/fd`.

use std::process::{Command, Stdio};

use box_tests::{box_bin, busybox_rootfs, ok, Case};

use crate::secret::HostSecret;

#[test]
fn a_host_directory_fd_leaked_to_box_does_not_reach_the_container() {
    let secret = HostSecret::new();
    let script = format!("ls /proc/self/fd; {}", secret.shell_attack());
    let case = Case::new(
        "leak-dir",
        &format!("rootfs = \"rootfs\"\ncommand = [\"/bin/sh\", \"-c\", {script:?}]\n"),
    );
    busybox_rootfs(case.dir.path());
    let secret_dir = secret.path().parent().expect("a directory").to_path_buf();
    // fd 7: the secret's directory, open in box's table across its execve.
    let inner = format!(
        "exec 7< {}; exec {} up {}",
        secret_dir.display(),
        box_bin().display(),
        case.file().display()
    );
    let out = Command::new("/bin/sh")
        .args(["-c", &inner])
        .stdin(Stdio::null())
        .output()
        .expect("run box through sh");
    let text = ok(&out);
    // 0-2, and the directory fd `ls` reads /proc/self/fd through.
    let fds: Vec<&str> = text
        .lines()
        .take_while(|l| l.parse::<u32>().is_ok())
        .collect();
    assert_eq!(fds, ["0", "1", "2", "3"], "{text}");
    secret.assert_untouched(&text);
    case.assert_nothing_left();
}
