//! `box-devprobe`: what the kernel answers when a container's process makes and opens device
//! nodes. The device tests bind-mount it into a container. It runs its arguments as a list
//! of operations and prints one line per operation, `OP PATH: ERRNO` (0 = it worked):
//!
//! ```text
//! mknod PATH b|c MAJOR MINOR    create a node (mode 0600)
//! open PATH r|w|rw              open and close it
//! read PATH N                   open read-only, read N bytes; the line ends with them
//! write PATH TEXT               open write-only and write TEXT
//! ```

use std::ffi::CString;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::process::ExitCode;

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(-1)
}

fn mknod(path: &str, kind: &str, major: u32, minor: u32) -> Result<i32, String> {
    let kind = match kind {
        "b" => libc::S_IFBLK,
        "c" => libc::S_IFCHR,
        other => return Err(format!("unknown node type {other:?}")),
    };
    let c_path = CString::new(path).map_err(|e| e.to_string())?;
    let dev = libc::makedev(major, minor);
    // SAFETY: a valid NUL-terminated path and plain integers.
    let rc = unsafe { libc::mknod(c_path.as_ptr(), kind | 0o600, dev) };
    Ok(if rc == 0 {
        0
    } else {
        errno_of(&std::io::Error::last_os_error())
    })
}

fn open(path: &str, mode: &str) -> Result<std::io::Result<std::fs::File>, String> {
    let mut opts = OpenOptions::new();
    match mode {
        "r" => opts.read(true),
        "w" => opts.write(true),
        "rw" => opts.read(true).write(true),
        other => return Err(format!("unknown open mode {other:?}")),
    };
    Ok(opts.open(path))
}

fn run(args: &[String]) -> Result<(), String> {
    let mut rest = args;
    while let Some((op, tail)) = rest.split_first() {
        let arg = |i: usize| {
            tail.get(i)
                .map(String::as_str)
                .ok_or(format!("{op}: missing argument"))
        };
        let number = |i: usize| -> Result<u32, String> {
            arg(i)?.parse().map_err(|_| format!("{op}: not a number"))
        };
        let path = arg(0)?;
        let used = match op.as_str() {
            "mknod" => {
                let errno = mknod(path, arg(1)?, number(2)?, number(3)?)?;
                println!("mknod {path}: {errno}");
                4
            }
            "open" => {
                let mode = arg(1)?;
                let errno = open(path, mode)?.err().map_or(0, |e| errno_of(&e));
                println!("open-{mode} {path}: {errno}");
                2
            }
            "read" => {
                let mut buf = vec![0; number(1)? as usize];
                let got = open(path, "r")?.and_then(|mut f| f.read(&mut buf));
                match got {
                    Ok(n) => println!("read {path}: 0 {}", String::from_utf8_lossy(&buf[..n])),
                    Err(e) => println!("read {path}: {}", errno_of(&e)),
                }
                2
            }
            "write" => {
                let text = arg(1)?;
                let done = open(path, "w")?.and_then(|mut f| f.write_all(text.as_bytes()));
                println!("write {path}: {}", done.err().map_or(0, |e| errno_of(&e)));
                2
            }
            other => return Err(format!("unknown operation {other:?}")),
        };
        rest = &tail[used..];
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("box-devprobe: {e}");
            ExitCode::from(2)
        }
    }
}
