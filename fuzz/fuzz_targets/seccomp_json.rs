//! Fuzz target: see `box_cli::fuzz::seccomp_json` for what it drives and asserts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| box_cli::fuzz::seccomp_json(data));
