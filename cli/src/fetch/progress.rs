//! Pull and load progress on a terminal: one line per layer, redrawn in place at most ten
//! times a second, on stderr. Nothing when stderr is not a terminal (or with `--quiet`).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use box_image::progress::{LayerDone, Progress};
use box_image::Digest;

use box_cli::human::human_size;

pub struct Bars {
    on: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Each layer's short ID and status text, in the order they were first heard of.
    lines: Vec<(String, String)>,
    sizes: Vec<Option<u64>>,
    drawn: usize,
    last: Option<Instant>,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        Bars {
            on: !quiet && std::io::stderr().is_terminal(),
            state: Mutex::new(State::default()),
        }
    }

    fn update(
        &self,
        layer: &Digest,
        size: Option<u64>,
        text: impl FnOnce(Option<u64>) -> String,
        force: bool,
    ) {
        if !self.on {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let id = layer.short().to_string();
        let i = match s.lines.iter().position(|(l, _)| *l == id) {
            Some(i) => i,
            None => {
                s.lines.push((id, String::new()));
                s.sizes.push(size);
                s.lines.len() - 1
            }
        };
        if size.is_some() {
            s.sizes[i] = size;
        }
        s.lines[i].1 = text(s.sizes[i]);
        let due = s
            .last
            .map_or(true, |t| t.elapsed() >= Duration::from_millis(100));
        if force || due {
            s.last = Some(Instant::now());
            draw(&mut s);
        }
    }

    /// The last frame, so that every layer's final status shows.
    pub fn finish(&self) {
        if self.on {
            draw(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// A line under the bars (`Digest: …`), on a terminal only.
    pub fn note(&self, text: &str) {
        if self.on {
            eprintln!("{text}");
        }
    }
}

fn draw(s: &mut State) {
    let mut out = String::new();
    if s.drawn > 0 {
        out.push_str(&format!("\x1b[{}A", s.drawn));
    }
    for (id, text) in &s.lines {
        out.push_str(&format!("\x1b[2K{id}: {text}\n"));
    }
    s.drawn = s.lines.len();
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

impl Progress for Bars {
    fn layer_started(&self, layer: &Digest, size: Option<u64>) {
        self.update(layer, size, |_| "Waiting".into(), true);
    }

    fn layer_bytes(&self, layer: &Digest, done: u64) {
        self.update(
            layer,
            None,
            |size| match size {
                Some(total) => format!("Downloading {}/{}", human_size(done), human_size(total)),
                None => format!("Reading {}", human_size(done)),
            },
            false,
        );
    }

    fn layer_done(&self, layer: &Digest, how: LayerDone) {
        let text = match how {
            LayerDone::Unpacked => "Pull complete",
            LayerDone::Present => "Already exists",
            LayerDone::Failed => "Failed",
        };
        self.update(layer, None, |_| text.into(), true);
    }
}
