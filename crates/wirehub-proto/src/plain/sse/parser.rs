//! [`SseParser`]: reads an `text/event-stream` the way a browser's
//! `EventSource` does (WHATWG HTML, "Parsing an event stream").

use std::collections::VecDeque;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `message` when absent.
    pub event: String,
    /// The last event id seen on the stream so far (it persists across
    /// events, as `EventSource.lastEventId` does).
    pub id: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `retry:` value given in this event's block, in milliseconds.
    pub retry: Option<u64>,
}

/// Why the parser refused input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line or an event's data grew past the limit; the partial event
    /// was dropped. The stream is probably not SSE: close it.
    #[error("event larger than {max} bytes")]
    TooLarge {
        /// The configured limit.
        max: usize,
    },
}

/// An incremental event-stream parser: [`feed`](Self::feed) bytes, then
/// take events with [`next_event`](Self::next_event).
#[derive(Debug)]
pub struct SseParser {
    max: usize,
    line: Vec<u8>,
    /// The previous byte was a `\r`, so a following `\n` ends nothing.
    after_cr: bool,
    /// Still on the stream's first line, where a BOM is skipped.
    at_start: bool,
    event: String,
    data: String,
    retry: Option<u64>,
    last_id: Option<String>,
    ready: VecDeque<SseEvent>,
}

impl SseParser {
    /// A parser holding at most `max` bytes of a partial line plus the
    /// data of the event being read.
    pub fn new(max: usize) -> Self {
        SseParser {
            max,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            retry: None,
            last_id: None,
            ready: VecDeque::new(),
        }
    }

    /// Parses received bytes; complete events queue up for `next_event`.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), SseError> {
        for &b in data {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => self.end_line(),
                _ => self.line.push(b),
            }
            if self.line.len() + self.data.len() > self.max {
                self.reset();
                return Err(SseError::TooLarge { max: self.max });
            }
        }
        Ok(())
    }

    /// The next complete event, if any.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    fn end_line(&mut self) {
        let mut bytes = &self.line[..];
        if std::mem::take(&mut self.at_start) {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let line = String::from_utf8_lossy(bytes).into_owned();
        self.line.clear();
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
    }

    /// A blank line: hand over the event, unless it has no data (kept when
    /// it set `retry`, so callers see the new delay).
    fn dispatch(&mut self) {
        let event = std::mem::take(&mut self.event);
        let mut data = std::mem::take(&mut self.data);
        let retry = self.retry.take();
        if data.is_empty() && retry.is_none() {
            return;
        }
        data.pop();
        self.ready.push_back(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            id: self.last_id.clone(),
            data,
            retry,
        });
    }

    fn reset(&mut self) {
        self.line.clear();
        self.event.clear();
        self.data.clear();
        self.retry = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new(256);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c).unwrap();
            out.extend(std::iter::from_fn(|| p.next_event()));
        }
        out
    }

    const STREAM: &[u8] =
        b"\xEF\xBB\xBF: hi\r\nevent: a\r\ndata:x\r\ndata:  y\r\rid: 1\ndata\n\nevent: b\n\nretry: x\ndata: z\n\n";

    #[test]
    fn whatwg_rules() {
        let got = parse_all(&[STREAM]);
        let summary: Vec<_> = got
            .iter()
            .map(|e| (e.event.as_str(), e.data.as_str(), e.id.as_deref(), e.retry))
            .collect();
        let want = [
            ("a", "x\n y", None, None),
            ("message", "", Some("1"), None),
            ("message", "z", Some("1"), None),
        ];
        assert_eq!(summary, want);
    }

    #[test]
    fn same_events_at_every_split() {
        let whole = parse_all(&[STREAM]);
        for cut in 0..=STREAM.len() {
            assert_eq!(
                parse_all(&[&STREAM[..cut], &STREAM[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn oversized_events_are_refused() {
        let mut p = SseParser::new(8);
        assert_eq!(
            p.feed(b"data: 0123456789"),
            Err(SseError::TooLarge { max: 8 })
        );
        p.feed(b"\n\ndata: ok\n\n").unwrap();
        assert_eq!(p.next_event().map(|e| e.data), Some("ok".to_owned()));
    }
}
