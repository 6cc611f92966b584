//! A reader for the YAML that lockfiles use (`pnpm-lock.yaml`, yarn berry's
//! `yarn.lock`): block mappings and sequences, plain and quoted scalars,
//! one-line (or bracket-balanced multi-line) flow collections, and literal
//! block scalars.
//!
//! It refuses anchors, aliases and tags: no lockfile writer emits them, and
//! aliases are what a "billion laughs" YAML bomb is made of. Duplicate keys
//! and nesting deeper than [`MAX_DEPTH`] are refused too. Every node keeps
//! its line.

use std::collections::HashSet;

use crate::tree::{Node, Val};
use crate::{MAX_DEPTH, SyntaxError};

/// One meaningful line: its indentation and its content without the
/// comment and trailing space.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    no: u32,
    indent: usize,
    text: &'a str,
}

/// Parse `text` as one YAML document of the lockfile subset.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut lines = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        if content.starts_with('\t') {
            return Err(err(no, "a tab in indentation"));
        }
        let content = strip_comment(content).trim_end();
        if content.is_empty() || (indent == 0 && (content == "---" || content.starts_with('%'))) {
            continue;
        }
        if indent == 0 && content == "..." {
            break;
        }
        lines.push(Line {
            no,
            indent,
            text: content,
        });
    }
    let mut p = Parser { lines, pos: 0 };
    if p.lines.is_empty() {
        return Ok(Node::new(1, Val::Null));
    }
    let first = p.lines[0].indent;
    let v = p.block(first, 0)?;
    if let Some(l) = p.lines.get(p.pos) {
        return Err(err(l.no, "unexpected indentation"));
    }
    Ok(v)
}

fn err(line: u32, msg: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        message: msg.into(),
    }
}

/// Cut a `#` comment that is outside quotes and starts a word.
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if dq => i += 1,
            b'"' if !sq => dq = !dq,
            b'\'' if !dq => sq = !sq,
            b'#' if !sq && !dq && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') => {
                return &s[..i];
            }
            _ => {}
        }
        i += 1;
    }
    s
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// A block node whose lines are indented exactly `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Node, SyntaxError> {
        let Some(&l) = self.lines.get(self.pos) else {
            return Ok(Node::new(1, Val::Null));
        };
        if depth > MAX_DEPTH {
            return Err(err(l.no, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        if is_seq_item(l.text) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Result<Node, SyntaxError> {
        let start = self.lines[self.pos].no;
        let mut items = Vec::new();
        while let Some(&l) = self.lines.get(self.pos) {
            if l.indent != indent || !is_seq_item(l.text) {
                if l.indent > indent {
                    return Err(err(l.no, "unexpected indentation"));
                }
                break;
            }
            let rest = l.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                items.push(self.nested(indent, l.no, depth)?);
                continue;
            }
            // `- key: value` starts a mapping whose later keys line up
            // with `key`: re-read this line as that mapping's first line.
            let offset = l.text.len() - rest.len();
            self.lines[self.pos] = Line {
                no: l.no,
                indent: indent + offset,
                text: rest,
            };
            if is_seq_item(rest) || split_key(rest, l.no)?.is_some() {
                items.push(self.block(indent + offset, depth + 1)?);
            } else {
                self.pos += 1;
                items.push(self.inline_value(rest, l.no, indent, depth)?);
            }
        }
        Ok(Node::new(start, Val::Arr(items)))
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Result<Node, SyntaxError> {
        let start = self.lines[self.pos].no;
        let mut members: Vec<(String, Node)> = Vec::new();
        let mut seen = HashSet::new();
        while let Some(&l) = self.lines.get(self.pos) {
            if l.indent < indent {
                break;
            }
            if l.indent > indent {
                return Err(err(l.no, "unexpected indentation"));
            }
            if is_seq_item(l.text) {
                break;
            }
            let Some((key, rest)) = split_key(l.text, l.no)? else {
                return Err(err(l.no, "expected `key: value`"));
            };
            self.pos += 1;
            let mut v = if rest.is_empty() {
                self.nested_or_seq(indent, l.no, depth)?
            } else {
                self.inline_value(rest, l.no, indent, depth)?
            };
            v.line = l.no;
            if !seen.insert(key.clone()) {
                return Err(err(l.no, format!("duplicate key `{}`", crate::clip(&key))));
            }
            members.push((key, v));
        }
        Ok(Node::new(start, Val::Obj(members)))
    }

    /// The value after `key:` with nothing on its line: a more-indented
    /// block, a sequence at the same indentation, or null.
    fn nested_or_seq(&mut self, indent: usize, no: u32, depth: usize) -> Result<Node, SyntaxError> {
        match self.lines.get(self.pos) {
            Some(n) if n.indent == indent && is_seq_item(n.text) => self.block(indent, depth + 1),
            _ => self.nested(indent, no, depth),
        }
    }

    fn nested(&mut self, indent: usize, no: u32, depth: usize) -> Result<Node, SyntaxError> {
        match self.lines.get(self.pos) {
            Some(n) if n.indent > indent => {
                let ni = n.indent;
                self.block(ni, depth + 1)
            }
            _ => Ok(Node::new(no, Val::Null)),
        }
    }

    /// A value written on the key's line: a scalar, a flow collection
    /// (possibly continued on following lines), or a block scalar header.
    fn inline_value(
        &mut self,
        rest: &str,
        no: u32,
        indent: usize,
        depth: usize,
    ) -> Result<Node, SyntaxError> {
        let first = rest.as_bytes()[0];
        if first == b'|' || first == b'>' {
            let mut text = String::new();
            while let Some(n) = self.lines.get(self.pos) {
                if n.indent <= indent {
                    break;
                }
                text.push_str(n.text);
                text.push(if first == b'|' { '\n' } else { ' ' });
                self.pos += 1;
            }
            return Ok(Node::new(no, Val::Str(text)));
        }
        if first == b'{' || first == b'[' {
            let mut buf = rest.to_owned();
            // Flow collections may continue on more-indented lines.
            while !balanced(&buf) {
                match self.lines.get(self.pos) {
                    Some(n) if n.indent > indent && buf.len() < crate::MAX_STRING => {
                        buf.push(' ');
                        buf.push_str(n.text);
                        self.pos += 1;
                    }
                    _ => return Err(err(no, "unterminated flow collection")),
                }
            }
            let mut f = Flow {
                s: buf.as_bytes(),
                text: &buf,
                pos: 0,
                no,
            };
            let v = f.value(depth)?;
            f.skip_ws();
            if f.pos < f.s.len() {
                return Err(err(no, "trailing characters after a flow collection"));
            }
            return Ok(v);
        }
        scalar(rest, no)
    }
}

fn is_seq_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// Split `key: rest` (key plain or quoted). `None` when the line has no
/// key.
fn split_key(t: &str, no: u32) -> Result<Option<(String, &str)>, SyntaxError> {
    if t.starts_with("? ") || t == "?" {
        return Err(err(no, "complex mapping keys are not accepted"));
    }
    let b = t.as_bytes();
    if b[0] == b'"' || b[0] == b'\'' {
        let (key, used) = quoted(t, no)?;
        let after = &t[used..];
        let after = after.trim_start_matches(' ');
        return match after.strip_prefix(':') {
            Some(r) if r.is_empty() || r.starts_with(' ') => Ok(Some((key, r.trim_start()))),
            _ => Ok(None),
        };
    }
    if matches!(b[0], b'{' | b'[') {
        return Ok(None);
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' ') {
            let key = t[..i].trim_end();
            check_plain(key, no)?;
            return Ok(Some((key.to_owned(), t[i + 1..].trim_start())));
        }
        i += 1;
    }
    Ok(None)
}

/// Anchors, aliases and tags are refused (see the module docs).
fn check_plain(s: &str, no: u32) -> Result<(), SyntaxError> {
    match s.as_bytes().first() {
        Some(b'&' | b'*') => Err(err(
            no,
            "YAML anchors and aliases are not accepted in lockfiles",
        )),
        Some(b'!') => Err(err(no, "YAML tags are not accepted in lockfiles")),
        _ => Ok(()),
    }
}

/// A quoted scalar at the start of `t`: its value and the bytes it used.
fn quoted(t: &str, no: u32) -> Result<(String, usize), SyntaxError> {
    let b = t.as_bytes();
    let q = b[0];
    let mut out = String::new();
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        let c = b[i];
        if q == b'\'' && c == b'\'' {
            out.push_str(&t[run..i]);
            if b.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                run = i;
                continue;
            }
            return Ok((out, i + 1));
        }
        if q == b'"' && c == b'"' {
            out.push_str(&t[run..i]);
            return Ok((out, i + 1));
        }
        if q == b'"' && c == b'\\' {
            out.push_str(&t[run..i]);
            let Some(&e) = b.get(i + 1) else {
                return Err(err(no, "unterminated escape"));
            };
            i += 2;
            match e {
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'0' => out.push('\0'),
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b' ' => out.push(' '),
                b'u' | b'x' => {
                    let n = if e == b'u' { 4 } else { 2 };
                    let c = t
                        .get(i..i + n)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .ok_or_else(|| err(no, "invalid escape"))?;
                    out.push(c);
                    i += n;
                }
                _ => return Err(err(no, "invalid escape")),
            }
            run = i;
            continue;
        }
        i += 1;
    }
    Err(err(no, "unterminated quoted string"))
}

/// A plain or quoted scalar making up the whole of `s`.
fn scalar(s: &str, no: u32) -> Result<Node, SyntaxError> {
    if s.starts_with('"') || s.starts_with('\'') {
        let (v, used) = quoted(s, no)?;
        if !s[used..].trim().is_empty() {
            return Err(err(no, "trailing characters after a quoted string"));
        }
        return Ok(Node::new(no, Val::Str(v)));
    }
    check_plain(s, no)?;
    Ok(Node::new(no, plain(s)))
}

fn plain(s: &str) -> Val {
    match s {
        "null" | "~" | "Null" | "NULL" => Val::Null,
        "true" | "True" | "TRUE" => Val::Bool(true),
        "false" | "False" | "FALSE" => Val::Bool(false),
        _ if s.parse::<f64>().is_ok() => Val::Num(s.to_owned()),
        _ => Val::Str(s.to_owned()),
    }
}

/// True when brackets outside quotes are balanced.
fn balanced(s: &str) -> bool {
    let (mut depth, mut sq, mut dq) = (0i64, false, false);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if dq => i += 1,
            b'"' if !sq => dq = !dq,
            b'\'' if !dq => sq = !sq,
            b'{' | b'[' if !sq && !dq => depth += 1,
            b'}' | b']' if !sq && !dq => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    depth <= 0 && !sq && !dq
}

/// A flow collection (`{a: 1, b: [x, y]}`) on one logical line.
struct Flow<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    no: u32,
}

impl Flow<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|c| *c == b' ') {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(err(
                self.no,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.skip_ws();
        match self.s.get(self.pos) {
            Some(b'{') => self.collection(depth, b'}'),
            Some(b'[') => self.collection(depth, b']'),
            Some(b'"' | b'\'') => {
                let (v, used) = quoted(&self.text[self.pos..], self.no)?;
                self.pos += used;
                Ok(Node::new(self.no, Val::Str(v)))
            }
            Some(_) => {
                let start = self.pos;
                while let Some(&c) = self.s.get(self.pos) {
                    if matches!(c, b',' | b'}' | b']')
                        || (c == b':' && self.s.get(self.pos + 1).is_none_or(|n| *n == b' '))
                    {
                        break;
                    }
                    self.pos += 1;
                }
                let t = self.text[start..self.pos].trim();
                check_plain(t, self.no)?;
                Ok(Node::new(self.no, plain(t)))
            }
            None => Err(err(self.no, "unexpected end of a flow collection")),
        }
    }

    fn collection(&mut self, depth: usize, close: u8) -> Result<Node, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        let mut members: Vec<(String, Node)> = Vec::new();
        let mut seen = HashSet::new();
        loop {
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(&c) if c == close => {
                    self.pos += 1;
                    break;
                }
                None => return Err(err(self.no, "unterminated flow collection")),
                _ => {}
            }
            let v = self.value(depth + 1)?;
            if close == b'}' {
                self.skip_ws();
                let key = v.as_str().map(str::to_owned).unwrap_or_default();
                let val = if self.s.get(self.pos) == Some(&b':') {
                    self.pos += 1;
                    self.value(depth + 1)?
                } else {
                    Node::new(self.no, Val::Null)
                };
                if !seen.insert(key.clone()) {
                    return Err(err(
                        self.no,
                        format!("duplicate key `{}`", crate::clip(&key)),
                    ));
                }
                members.push((key, val));
            } else {
                items.push(v);
            }
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(&c) if c == close => {}
                _ => return Err(err(self.no, "expected `,` in a flow collection")),
            }
        }
        Ok(Node::new(
            self.no,
            if close == b'}' {
                Val::Obj(members)
            } else {
                Val::Arr(items)
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_shapes() {
        let t = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      left-pad:\n        specifier: ^1.3.0\n        version: 1.3.0\n\npackages:\n\n  left-pad@1.3.0:\n    resolution: {integrity: sha512-abc==, tarball: 'http://127.0.0.1/x.tgz'}\n    deprecated: use String.prototype.padStart()\n    engines: {node: '>=0.10'}\n    cpu: [x64, arm64]\n";
        let n = parse(t).unwrap();
        assert_eq!(n.str_of("lockfileVersion"), Some("9.0"));
        let p = n.get("packages").unwrap().get("left-pad@1.3.0").unwrap();
        assert_eq!(p.line, 13);
        assert_eq!(
            p.get("resolution").unwrap().str_of("integrity"),
            Some("sha512-abc==")
        );
        assert_eq!(p.get("cpu").unwrap().items().len(), 2);
        let imp = n.get("importers").unwrap().get(".").unwrap();
        assert_eq!(
            imp.get("dependencies")
                .unwrap()
                .get("left-pad")
                .unwrap()
                .line,
            7
        );
    }

    #[test]
    fn sequences_and_quotes() {
        let t = "a:\n- x\n- k: 1\n  j: 'it''s'\nb: \"q\\\"\" # c\nc: |\n  l1\n  l2\n";
        let n = parse(t).unwrap();
        let a = n.get("a").unwrap().items();
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].str_of("j"), Some("it's"));
        assert_eq!(n.str_of("b"), Some("q\""));
        assert_eq!(n.str_of("c"), Some("l1\nl2\n"));
    }

    #[test]
    fn refuses_bombs_and_duplicates() {
        let bomb = "a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: [*b,*b]\n";
        let e = parse(bomb).unwrap_err();
        assert!(e.message.contains("anchors"), "{e:?}");
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("x: !!python/object foo\n").unwrap_err();
        assert!(e.message.contains("tags"), "{e:?}");
        let deep: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
        let flow = format!("a: {}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(parse(&flow).unwrap_err().message.contains("nesting"));
        assert!(parse("a: {b: 1\n").is_err());
        assert!(parse("a: 'open\n").is_err());
    }
}
