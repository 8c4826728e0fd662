//! Event types (`job.completed`) and the subscription patterns endpoints use to pick them
//! (`job.completed`, `job.*`, `*`). Parse, don't validate: a value of these types is valid.

use std::fmt;

pub const MAX_EVENT_TYPE_LEN: usize = 256;

/// A dot-separated name, each segment of `[A-Za-z0-9_-]+`, at most 256 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventType(String);

impl EventType {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.is_empty() {
            return Err("must not be empty");
        }
        if s.len() > MAX_EVENT_TYPE_LEN {
            return Err("must be at most 256 characters");
        }
        if !s.split('.').all(valid_segment) {
            return Err("must be dot-separated segments of letters, digits, '_' and '-'");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What an endpoint subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypePattern {
    /// `*`: every event type.
    All,
    /// `job.*`: `job.` followed by anything (one or more segments); not `job` itself.
    Prefix(String),
    /// `job.completed`: that type only.
    Exact(EventType),
}

impl EventTypePattern {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s == "*" {
            return Ok(Self::All);
        }
        if let Some(prefix) = s.strip_suffix(".*") {
            EventType::parse(prefix)?;
            return Ok(Self::Prefix(format!("{prefix}.")));
        }
        EventType::parse(s).map(Self::Exact)
    }

    pub fn matches(&self, event_type: &EventType) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(prefix) => event_type.as_str().starts_with(prefix.as_str()),
            Self::Exact(t) => t == event_type,
        }
    }
}

/// True when any of `patterns` (as stored on an endpoint) picks `event_type`. Patterns that no
/// longer parse match nothing.
pub fn any_matches<S: AsRef<str>>(patterns: &[S], event_type: &EventType) -> bool {
    patterns.iter().any(|p| {
        EventTypePattern::parse(p.as_ref()).is_ok_and(|pattern| pattern.matches(event_type))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn et(s: &str) -> EventType {
        EventType::parse(s).unwrap()
    }

    #[test]
    fn event_type_shapes() {
        for ok in [
            "job.completed",
            "a",
            "transcribe.job.processing",
            "x_y-z.A9",
        ] {
            assert!(EventType::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "job.",
            ".job",
            "job..done",
            "job completed",
            "job.*",
            "jöb",
            "a/b",
        ] {
            assert!(EventType::parse(bad).is_err(), "{bad}");
        }
        assert!(EventType::parse(&"a".repeat(256)).is_ok());
        assert!(EventType::parse(&"a".repeat(257)).is_err());
    }

    #[test]
    fn pattern_matching_table() {
        let cases = [
            ("*", "job.completed", true),
            ("*", "x", true),
            ("job.*", "job.completed", true),
            ("job.*", "job.a.b", true),
            ("job.*", "job", false),
            ("job.*", "jobs.completed", false),
            ("transcribe.job.*", "transcribe.job.failed", true),
            ("transcribe.job.*", "extract.job.failed", false),
            ("job.completed", "job.completed", true),
            ("job.completed", "job.completed.late", false),
            ("job.completed", "job.failed", false),
        ];
        for (pattern, event, expected) in cases {
            let p = EventTypePattern::parse(pattern).unwrap();
            assert_eq!(p.matches(&et(event)), expected, "{pattern} vs {event}");
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in ["", "job.**", "*.completed", "job*", ".*", "job.*.x"] {
            assert!(EventTypePattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn any_matches_over_stored_patterns() {
        let patterns = vec!["job.failed".to_owned(), "file.*".to_owned()];
        assert!(any_matches(&patterns, &et("file.job.deleted")));
        assert!(any_matches(&patterns, &et("job.failed")));
        assert!(!any_matches(&patterns, &et("job.completed")));
        assert!(!any_matches::<String>(&[], &et("job.completed")));
    }
}
