//! `print!`, `println!`, `eprint!` and `eprintln!` for box's binaries, in place of std's
//! (declared first in each crate root, these shadow them in every module after). std's panic
//! when the stream is gone — `box ps | head -1` closes stdout early, `2>&-` leaves no stderr —
//! and box aborts on a panic, perhaps with a container half torn down. These write what they
//! can and go on, as a C program that ignores SIGPIPE does; the exit code still tells.

// Each of the three crate roots that include this file uses some of them.
#![allow(unused_macros)]

macro_rules! print {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stdout(), $($arg)*);
    }};
}

macro_rules! println {
    () => {{
        use ::std::io::Write as _;
        let _ = ::std::io::stdout().write_all(b"\n");
    }};
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout(), $($arg)*);
    }};
}

macro_rules! eprint {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stderr(), $($arg)*);
    }};
}

macro_rules! eprintln {
    () => {{
        use ::std::io::Write as _;
        let _ = ::std::io::stderr().write_all(b"\n");
    }};
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}
