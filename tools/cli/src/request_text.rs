//! A captured HTTP request as text: an optional request line, `Name: value` header lines, an
//! empty line, then the body bytes (bounded by `Content-Length` when it is given). Pure.

/// The parts of a captured request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub request_line: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Parses a whole captured request.
pub fn parse_request(raw: &[u8]) -> Result<Captured, String> {
    let (head, body) = split_head(raw);
    let head = std::str::from_utf8(head).map_err(|_| "the header part is not UTF-8".to_owned())?;
    let mut lines = head.lines().peekable();
    let request_line = match lines.peek() {
        Some(first) if is_request_line(first) => lines.next().map(str::to_owned),
        _ => None,
    };
    let headers = parse_header_lines(lines)?;
    let mut body = body.to_vec();
    if let Some(len) = header(&headers, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("Content-Length is not a number: `{len}`"))?;
        if body.len() < len {
            return Err(format!(
                "the body has {} bytes, Content-Length says {len}",
                body.len()
            ));
        }
        body.truncate(len);
    }
    Ok(Captured {
        request_line,
        headers,
        body,
    })
}

/// Header lines alone (a `--headers` file); a request line at the top is allowed.
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut lines = text.lines().peekable();
    if lines.peek().is_some_and(|l| is_request_line(l)) {
        lines.next();
    }
    parse_header_lines(lines)
}

fn parse_header_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            format!(
                "header line {} has no `:`: `{}`",
                i + 1,
                line.chars().take(60).collect::<String>()
            )
        })?;
        if name.trim().is_empty() || name.contains(' ') {
            return Err(format!("header line {} has no valid name: `{name}`", i + 1));
        }
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(headers)
}

/// The head (before the first empty line) and the body (after it). With no empty line, all
/// of it is head and the body is empty.
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = raw.windows(len).position(|w| w == sep) {
            // The earliest separator of either kind wins.
            let other = if len == 4 {
                raw.windows(2).position(|w| w == b"\n\n")
            } else {
                None
            };
            if other.is_none_or(|o| o > at) {
                return (&raw[..at], &raw[at + len..]);
            }
        }
    }
    (raw, &[])
}

fn is_request_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next();
    let version = parts.next();
    method.chars().all(|c| c.is_ascii_uppercase())
        && !method.is_empty()
        && target.is_some()
        && version.is_some_and(|v| v.starts_with("HTTP/"))
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_full_request_with_crlf() {
        let raw = b"POST /hooks HTTP/1.1\r\nHost: x\r\nwebhook-id: msg_1\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\"}\r\nextra";
        let c = parse_request(raw).unwrap();
        assert_eq!(c.request_line.as_deref(), Some("POST /hooks HTTP/1.1"));
        assert_eq!(header(&c.headers, "WEBHOOK-ID"), Some("msg_1"));
        assert_eq!(c.body, b"{\"a\":\"b\"}\r\n");
    }

    #[test]
    fn headers_only_with_lf_and_exact_body_bytes() {
        let raw = b"webhook-id: msg_1\nwebhook-timestamp: 5\n\n{\"x\": 1}\n";
        let c = parse_request(raw).unwrap();
        assert_eq!(c.request_line, None);
        assert_eq!(c.headers.len(), 2);
        assert_eq!(
            c.body, b"{\"x\": 1}\n",
            "without Content-Length the body is every byte after the blank line"
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(
            parse_request(b"not a header\n\n{}")
                .unwrap_err()
                .contains("no `:`")
        );
        assert!(
            parse_request(b"Content-Length: 10\n\n{}")
                .unwrap_err()
                .contains("Content-Length says 10")
        );
        assert!(
            parse_request(b"Content-Length: x\n\n{}")
                .unwrap_err()
                .contains("not a number")
        );
        assert_eq!(parse_request(b"a: b").unwrap().body, b"");
    }

    #[test]
    fn header_files() {
        let h = parse_headers("POST / HTTP/1.1\nX-Sig: sha256=ab\n").unwrap();
        assert_eq!(h, vec![("X-Sig".to_owned(), "sha256=ab".to_owned())]);
    }
}
