//! Progress bars (indicatif, drawn on stderr only when it is a terminal) and Ctrl-C: the first
//! Ctrl-C asks long work to stop after the step in flight, so it can say what was done.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use tokio::sync::watch;

/// When bars are drawn: `auto` = when stderr is a terminal; `always` = also into a pipe or
/// file, one line per redraw (logs, tests); `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

static MODE: OnceLock<ProgressMode> = OnceLock::new();

/// Sets the mode once, at start-up.
pub fn set_mode(mode: ProgressMode) {
    let _ = MODE.set(mode);
}

fn target() -> ProgressDrawTarget {
    match MODE.get().copied().unwrap_or(ProgressMode::Auto) {
        ProgressMode::Never => ProgressDrawTarget::hidden(),
        ProgressMode::Always if !std::io::stderr().is_terminal() => {
            ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines), 4)
        }
        _ => ProgressDrawTarget::stderr(),
    }
}

/// Draws each state of a bar as a plain line on stderr (no cursor movement).
#[derive(Debug)]
struct PlainLines;

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if s.trim().is_empty() {
            return Ok(());
        }
        writeln!(std::io::stderr(), "{s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A bar with a count, rate and ETA.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    let style = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta}) {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A spinner for work of unknown size, with a running count.
pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    let style = ProgressStyle::with_template("{spinner} {msg} {pos} ({per_sec}) {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Ends a bar: cleared from a terminal; left as its final line where each redraw is a line
/// (`--progress always` into a pipe), so the end state is always on record there.
pub fn finish(bar: &ProgressBar) {
    let plain = MODE.get() == Some(&ProgressMode::Always) && !std::io::stderr().is_terminal();
    if plain {
        bar.finish();
    } else {
        bar.finish_and_clear();
    }
}

/// Set once Ctrl-C is pressed.
#[derive(Clone)]
pub struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// Listens for Ctrl-C (SIGINT) from now on.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
        });
        Self(rx)
    }

    pub fn fired(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when Ctrl-C is pressed.
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|fired| *fired).await;
    }

    /// Sleeps `d`, or less if Ctrl-C comes first; true when it did.
    pub async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => self.fired(),
            _ = self.wait() => true,
        }
    }
}
