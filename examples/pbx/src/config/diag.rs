//! Diagnostics with positions: `FILE:LINE:COLUMN: message`.

use std::fmt;
use std::ops::Range;

/// One problem found in a configuration document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The document's name (a path, or `<embedded default>`).
    pub origin: String,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// 1-based column (characters), when the problem has a place.
    pub column: Option<usize>,
    /// What is wrong and, where possible, what is expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.origin, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.origin, self.message),
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

/// Maps byte offsets and key paths of one document to positions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) origin: &'a str,
    pub(crate) text: &'a str,
}

impl<'a> Source<'a> {
    /// 1-based line and column of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit_once('\n')
            .map_or(before, |(_, rest)| rest)
            .chars()
            .count()
            + 1;
        (line, col)
    }

    /// A diagnostic at `span` (a `0..0` span of a default value has no place).
    pub(crate) fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = if span == (0..0) {
            (None, None)
        } else {
            let (l, c) = self.position(span.start);
            (Some(l), Some(c))
        };
        Diagnostic {
            origin: self.origin.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A diagnostic at `key` of table `table` (`"sip"`, or `"trunks"` with `index` for the
    /// n-th `[[trunks]]`), falling back to the table header, then to no place.
    pub(crate) fn key(
        &self,
        table: &str,
        index: Option<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let line = self.find_key(table, index, key);
        Diagnostic {
            origin: self.origin.to_owned(),
            line,
            column: line.map(|_| 1),
            message: message.into(),
        }
    }

    fn find_key(&self, table: &str, index: Option<usize>, key: &str) -> Option<usize> {
        let header = match index {
            Some(_) => format!("[[{table}]]"),
            None => format!("[{table}]"),
        };
        let mut seen = 0usize;
        let mut in_table = false;
        let mut header_line = None;
        for (n, raw) in self.text.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('[') {
                if in_table && header_line.is_some() {
                    break;
                }
                if line.replace(' ', "") == header {
                    if index.is_none_or(|i| i == seen) {
                        in_table = true;
                        header_line = Some(n + 1);
                    }
                    seen += 1;
                }
                continue;
            }
            if in_table
                && let Some(rest) = line.strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                return Some(n + 1);
            }
        }
        header_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_keys() {
        let text = "[sip]\nudp = \"x\"\n\n[[trunks]]\nname = \"a\"\n[[trunks]]\nname = \"b\"\n";
        let s = Source {
            origin: "f.toml",
            text,
        };
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(12), (2, 7));
        assert_eq!(s.key("sip", None, "udp", "m").line, Some(2));
        assert_eq!(s.key("trunks", Some(1), "name", "m").line, Some(7));
        assert_eq!(s.key("trunks", Some(1), "channels", "m").line, Some(6));
        assert_eq!(s.key("cdr", None, "path", "m").line, None);
        assert_eq!(
            s.at(12..13, "bad").to_string(),
            "f.toml:2:7: bad",
            "FILE:LINE:COL: message"
        );
    }
}
