//! Compares the namespaces of two processes (or one process and this one), as the kernel sees
//! them: `cargo run -p box-ns --example compare -- PID [PID]`.

fn main() {
    let pids: Vec<i32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (a, b) = match pids.as_slice() {
        [a] => (Some(*a), None),
        [a, b] => (Some(*a), Some(*b)),
        _ => {
            eprintln!("usage: compare PID [PID]");
            std::process::exit(2);
        }
    };
    match box_ns::compare(a, b) {
        Ok(rows) => {
            for row in rows {
                let verdict = if row.shared() { "shared" } else { "isolated" };
                println!(
                    "{:<7} {:>12} {:>12}  {verdict}",
                    row.kind, row.a.ino, row.b.ino
                );
            }
        }
        Err(e) => {
            eprintln!("compare: {e}");
            std::process::exit(1);
        }
    }
}
