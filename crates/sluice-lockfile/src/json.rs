//! A JSON reader that keeps line numbers, refuses duplicate keys and deep
//! nesting, and (for `bun.lock`) optionally accepts comments and trailing
//! commas.
//!
//! serde_json drops positions and silently keeps the last of two duplicate
//! keys; a lockfile with two different `node_modules/x` entries is read
//! differently by different tools, so we refuse it instead.

use std::collections::HashSet;

use crate::tree::{Node, Val};
use crate::{MAX_DEPTH, SyntaxError};

/// Which JSON dialect to accept.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dialect {
    /// `//` and `/* */` comments and trailing commas (bun.lock, JSONC).
    pub lenient: bool,
}

/// Parse `text` as one JSON document.
pub(crate) fn parse(text: &str, dialect: Dialect) -> Result<Node, SyntaxError> {
    let mut p = Parser {
        b: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        dialect,
    };
    // A UTF-8 byte-order mark is tolerated, as npm does.
    if p.b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        p.pos = 3;
    }
    p.ws()?;
    let v = p.value(0)?;
    p.ws()?;
    if p.pos < p.b.len() {
        return Err(p.err("trailing characters after the JSON document"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    text: &'a str,
    pos: usize,
    line: u32,
    dialect: Dialect,
}

impl Parser<'_> {
    fn err(&self, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: msg.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) -> Result<(), SyntaxError> {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.dialect.lenient => self.comment()?,
                _ => break,
            }
        }
        Ok(())
    }

    fn comment(&mut self) -> Result<(), SyntaxError> {
        match self.b.get(self.pos + 1) {
            Some(b'/') => {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
                Ok(())
            }
            Some(b'*') => {
                self.pos += 2;
                loop {
                    match self.peek() {
                        None => return Err(self.err("unterminated comment")),
                        Some(b'*') if self.b.get(self.pos + 1) == Some(&b'/') => {
                            self.pos += 2;
                            return Ok(());
                        }
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
            }
            _ => Err(self.err("unexpected `/`")),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let line = self.line;
        match self.peek() {
            None => Err(self.err("unexpected end of file")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Node::new(line, Val::Str(self.string()?))),
            Some(b't') => self.word("true", Val::Bool(true)),
            Some(b'f') => self.word("false", Val::Bool(false)),
            Some(b'n') => self.word("null", Val::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                Ok(Node::new(
                    line,
                    Val::Num(self.text[start..self.pos].to_owned()),
                ))
            }
            Some(c) => Err(self.err(format!("unexpected character `{}`", char::from(c)))),
        }
    }

    fn word(&mut self, w: &str, v: Val) -> Result<Node, SyntaxError> {
        if self.b[self.pos..].starts_with(w.as_bytes()) {
            self.pos += w.len();
            Ok(Node::new(self.line, v))
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let line = self.line;
        self.pos += 1;
        let mut members: Vec<(String, Node)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            self.ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::new(line, Val::Obj(members)));
                }
                Some(b'"') => {}
                None => return Err(self.err("unexpected end of file inside an object")),
                Some(_) => return Err(self.err("expected a string key or `}`")),
            }
            let key_line = self.line;
            let key = self.string()?;
            self.ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:` after an object key"));
            }
            self.pos += 1;
            self.ws()?;
            let mut v = self.value(depth + 1)?;
            v.line = key_line;
            if !seen.insert(key.clone()) {
                return Err(SyntaxError {
                    line: key_line,
                    message: format!("duplicate key `{}`", crate::clip(&key)),
                });
            }
            members.push((key, v));
            self.separator(b'}', "an object")?;
        }
    }

    /// After a member or item: a `,` (not trailing, unless the dialect is
    /// lenient) or the `close` byte, which is left for the caller.
    fn separator(&mut self, close: u8, inside: &str) -> Result<(), SyntaxError> {
        self.ws()?;
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                if !self.dialect.lenient {
                    self.ws()?;
                    if self.peek() == Some(close) {
                        return Err(self.err(format!("trailing comma in {inside}")));
                    }
                }
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            None => Err(self.err(format!("unexpected end of file inside {inside}"))),
            Some(_) => Err(self.err(format!("expected `,` or `{}`", close as char))),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let line = self.line;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.ws()?;
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::new(line, Val::Arr(items)));
                }
                None => return Err(self.err("unexpected end of file inside an array")),
                Some(_) => {}
            }
            items.push(self.value(depth + 1)?);
            self.separator(b']', "an array")?;
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                b'\n' => return Err(self.err("newline inside a string")),
                _ => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unterminated escape"));
        };
        self.pos += 1;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = self.hex4()?;
                let ch = if (0xD800..0xDC00).contains(&hi) && self.b[self.pos..].starts_with(b"\\u")
                {
                    self.pos += 2;
                    let lo = self.hex4()?;
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                    char::from_u32(c)
                } else {
                    char::from_u32(hi)
                };
                out.push(ch.unwrap_or('\u{FFFD}'));
            }
            _ => return Err(self.err("invalid escape in a string")),
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let h = self
            .text
            .get(self.pos..self.pos + 4)
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(t: &str) -> Result<Node, SyntaxError> {
        parse(t, Dialect::default())
    }

    #[test]
    fn lines_of_members() {
        let n = strict("{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\\u00e9\"\n  }\n}").unwrap();
        assert_eq!(n.get("a").unwrap().line, 2);
        let b = n.get("b").unwrap();
        assert_eq!(b.line, 3);
        assert_eq!(b.get("c").unwrap().line, 4);
        assert_eq!(b.str_of("c"), Some("xé"));
    }

    #[test]
    fn rejects_bad_input() {
        let e = strict("{\"a\": 1,\n\"a\": 2}").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("duplicate key"), "{e:?}");
        assert!(strict("{\"a\": [1, 2").is_err());
        assert!(strict("{\"a\": 1,}").is_err());
        assert!(strict("[1] x").is_err());
        let deep = "[".repeat(100_000);
        let e = strict(&deep).unwrap_err();
        assert!(e.message.contains("nesting"), "{e:?}");
    }

    #[test]
    fn lenient_comments_and_trailing_commas() {
        let t = "{\n // c\n \"a\": [1, 2,], /* x\n y */ \"b\": 2,\n}";
        let n = parse(t, Dialect { lenient: true }).unwrap();
        assert_eq!(n.get("a").unwrap().items().len(), 2);
        assert_eq!(n.get("b").unwrap().line, 4);
        assert!(strict(t).is_err());
    }
}
