//! A view redrawn in place on a terminal, line by line, some lines progress bars: what
//! `connectors status NAME --watch` shows when its output is a terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One line of the view.
#[derive(Debug, PartialEq)]
pub enum Line {
    Text(String),
    /// A bar of `done` out of `total`, after `label` and before `note`.
    Bar { label: String, done: u64, total: u64, note: String },
}

pub struct LiveView {
    multi: MultiProgress,
    /// One indicatif bar per line shown; a text line is a bar that shows only its message.
    lines: Vec<ProgressBar>,
    text: ProgressStyle,
    bar: ProgressStyle,
}

impl LiveView {
    pub fn new() -> LiveView {
        let bar = ProgressStyle::with_template("{prefix} [{bar:40.cyan/blue}] {percent:>3}%  {msg}")
            .expect("the template is valid")
            .progress_chars("=> ");
        LiveView {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            lines: Vec::new(),
            text: ProgressStyle::with_template("{msg}").expect("the template is valid"),
            bar,
        }
    }

    /// Replaces what is shown with `lines`.
    pub fn show(&mut self, lines: Vec<Line>) {
        while self.lines.len() < lines.len() {
            self.lines.push(self.multi.add(ProgressBar::new(0)));
        }
        for gone in self.lines.drain(lines.len()..) {
            self.multi.remove(&gone);
        }
        for (line, bar) in lines.into_iter().zip(&self.lines) {
            match line {
                Line::Text(text) => {
                    bar.set_style(self.text.clone());
                    bar.set_message(text);
                }
                Line::Bar { label, done, total, note } => {
                    // Length and position first: a draw in between would show a stale bar.
                    bar.update(|state| {
                        state.set_len(total);
                        state.set_pos(done);
                    });
                    bar.set_style(self.bar.clone());
                    bar.set_prefix(label);
                    bar.set_message(note);
                }
            }
        }
        // Updates come faster than indicatif's rate limit lets it draw; draw the result.
        for bar in &self.lines {
            bar.force_draw();
        }
    }
}
