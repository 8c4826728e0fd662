//! What the tool prints: pretty JSON for `--output json`, tables (comfy-table) otherwise, and
//! colour through anstream, which drops it when stdout is not a terminal (or NO_COLOR is set).

use std::sync::atomic::{AtomicBool, Ordering};

use comfy_table::{ContentArrangement, Table, presets};
use owo_colors::OwoColorize;
use serde::Serialize;

use crate::args::Output;
use crate::exit::{CliError, CliResult};

#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub format: Output,
}

impl Out {
    pub fn is_json(&self) -> bool {
        self.format == Output::Json
    }

    /// `value` as JSON, or the table `human` makes of it.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> CliResult {
        if self.is_json() {
            print_json(value)
        } else {
            anstream::println!("{}", human(value));
            Ok(())
        }
    }
}

/// Whether a command printed its JSON answer (then an error after it prints no second one).
static PRINTED: AtomicBool = AtomicBool::new(false);

pub fn printed_json() -> bool {
    PRINTED.load(Ordering::SeqCst)
}

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    PRINTED.store(true, Ordering::SeqCst);
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::failed(e.to_string()))?;
    anstream::println!("{text}");
    Ok(())
}

/// One JSON value on one line (`tail`, `listen`).
pub fn print_json_line<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string(value).map_err(|e| CliError::failed(e.to_string()))?;
    anstream::println!("{text}");
    Ok(())
}

/// A table with a header row.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.into_iter().map(|c| clean(&c)));
    }
    t.to_string()
}

/// Name/value pairs, one per row.
pub fn pairs(rows: Vec<(&str, String)>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (name, value) in rows {
        t.add_row(vec![name.to_owned(), clean(&value)]);
    }
    t.to_string()
}

/// Text from the API or a request with control characters (terminal escapes) replaced.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '�'
            } else {
                c
            }
        })
        .collect()
}

pub fn opt(v: &Option<impl ToString>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}

/// A JSON field of `rest` as text (`-` when absent or null).
pub fn field(rest: &serde_json::Map<String, serde_json::Value>, name: &str) -> String {
    match rest.get(name) {
        None | Some(serde_json::Value::Null) => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A field of a JSON object as text (`-` when absent or null).
pub fn field_of(v: &serde_json::Value, name: &str) -> String {
    v.as_object()
        .map(|m| field(m, name))
        .unwrap_or_else(|| "-".into())
}

/// A delivery status, coloured (green delivered, red failed, yellow pending); spaces around it
/// (padding) are kept. Not for table cells (the escapes would count in the width).
pub fn status(s: &str) -> String {
    match s.trim() {
        "delivered" => s.green().to_string(),
        "failed" => s.red().to_string(),
        "pending" => s.yellow().to_string(),
        other => clean(other),
    }
}

pub fn warn(message: &str) {
    anstream::eprintln!("{} {}", "warning:".yellow().bold(), message);
}

pub fn error(message: &str) {
    anstream::eprintln!("{} {}", "error:".red().bold(), message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_hold_their_cells_and_drop_escapes() {
        let t = table(
            &["id", "status"],
            vec![vec!["dlv_1".into(), "ok\u{1b}[31m".into()]],
        );
        assert!(t.contains("dlv_1"));
        assert!(t.contains("status"));
        assert!(!t.contains('\u{1b}'));
        let p = pairs(vec![("url", "https://x".into())]);
        assert!(p.contains("https://x"));
    }

    #[test]
    fn fields_and_options() {
        let rest: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"a":"x","b":null,"c":3}"#).unwrap_or_default();
        assert_eq!(field(&rest, "a"), "x");
        assert_eq!(field(&rest, "b"), "-");
        assert_eq!(field(&rest, "c"), "3");
        assert_eq!(field(&rest, "d"), "-");
        assert_eq!(opt(&None::<u16>), "-");
        assert_eq!(opt(&Some(200)), "200");
    }
}
