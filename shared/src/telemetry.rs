//! JSON logs for the functions (CloudWatch reads them as structured records). Payloads, secrets,
//! keys and signature headers are never logged: only ids, outcomes and timings.
//!
//! One flat JSON object per line, kept short because every delivery writes one:
//! `{"level":"INFO","msg":"attempt made","delivery_id":"dlv_…","attempt":1,"outcome":"Delivered",…}`
//! — the level (Lambda's log-level filtering reads `level`), the message as `msg`, then the
//! fields of the innermost span (a record's ids, a request's method and path) and the event's own
//! fields, all at the top level. No span names, no list of enclosing spans, no target and no
//! time (CloudWatch stamps every line).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON subscriber (`RUST_LOG`, default `info`) writing to stdout.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init (tests) is harmless; the first subscriber stays.
    let _ = subscriber(filter, std::io::stdout).try_init();
}

/// The functions' subscriber, writing to `writer` (tests capture the lines).
pub fn subscriber<W>(
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .finish()
}

/// The line format described in the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = String::with_capacity(192);
        line.push_str("{\"level\":\"");
        line.push_str(event.metadata().level().as_str());
        line.push('"');
        if let Some(message) = &fields.message {
            line.push_str(",\"msg\":");
            push_str(&mut line, message);
        }
        if let Some(span) = ctx.lookup_current()
            && let Some(stored) = span.extensions().get::<FormattedFields<N>>()
        {
            // JsonFields keeps a span's fields as one JSON object: its members go in as they are.
            let members = stored
                .fields
                .trim()
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .unwrap_or_default();
            if !members.is_empty() {
                line.push(',');
                line.push_str(members);
            }
        }
        line.push_str(&fields.rest);
        line.push('}');
        writeln!(writer, "{line}")
    }
}

/// An event's fields: the message apart, the rest as `,"name":value` members.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: String,
}

impl Fields {
    fn member(&mut self, field: &Field) {
        self.rest.push(',');
        push_str(&mut self.rest, field.name());
        self.rest.push(':');
    }

    fn text(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.member(field);
            push_str(&mut self.rest, value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, &format!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field);
        let _ = write!(self.rest, "{value}");
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field);
        let _ = write!(self.rest, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field);
        self.rest.push_str(if value { "true" } else { "false" });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.member(field);
            let _ = write!(self.rest, "{value}");
        } else {
            self.text(field, &value.to_string());
        }
    }
}

/// `value` as a JSON string.
fn push_str(out: &mut String, value: &str) {
    match serde_json::to_string(value) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Every line written, for the tests.
    #[derive(Clone, Default)]
    pub struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(capture: &Capture) -> Vec<String> {
        String::from_utf8(capture.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_line_is_one_flat_object_with_the_spans_fields_and_the_events() {
        let capture = Capture::default();
        let writer = capture.clone();
        let sub = subscriber(tracing_subscriber::EnvFilter::new("info"), move || {
            writer.clone()
        });
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!(
                "record",
                delivery_id = tracing::field::Empty,
                attempt = tracing::field::Empty
            );
            let _in = span.enter();
            span.record("delivery_id", "dlv_01KB0ZQ6ZJ3Y3N0X6M2T8Q9R7S");
            span.record("attempt", 1);
            tracing::info!(outcome = ?Some("x"), status_code = 200_u16, ok = true, ratio = 0.5, quote = "a\"b", "attempt made");
            tracing::debug!("not at info");
            drop(_in);
            tracing::warn!(n = -3, "outside");
        });
        let lines = lines(&capture);
        assert_eq!(lines.len(), 2, "{lines:?}");
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"level": "INFO", "msg": "attempt made",
                "delivery_id": "dlv_01KB0ZQ6ZJ3Y3N0X6M2T8Q9R7S", "attempt": 1,
                "outcome": "Some(\"x\")", "status_code": 200, "ok": true, "ratio": 0.5, "quote": "a\"b"})
        );
        assert!(lines[0].starts_with(r#"{"level":"INFO","msg":"attempt made","#));
        assert_eq!(lines[1], r#"{"level":"WARN","msg":"outside","n":-3}"#);
    }
}
