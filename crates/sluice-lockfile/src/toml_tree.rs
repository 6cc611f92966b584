//! TOML into the shared [`Node`] tree, with lines taken from the spans
//! the `toml` crate keeps.

use toml::de::{DeTable, DeValue};

use crate::tree::{LineIndex, Node, Val};
use crate::{MAX_DEPTH, SyntaxError};

/// Parse a TOML document.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let idx = LineIndex::new(text);
    let doc = DeTable::parse(text).map_err(|e| SyntaxError {
        line: e.span().map_or(1, |s| idx.line(s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let line = idx.line(doc.span().start);
    table(doc.get_ref(), line, &idx, 0)
}

fn table(t: &DeTable<'_>, line: u32, idx: &LineIndex, depth: usize) -> Result<Node, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(SyntaxError {
            line,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    let mut members = Vec::with_capacity(t.len());
    for (k, v) in t {
        let kline = idx.line(k.span().start);
        let mut n = value(v.get_ref(), idx.line(v.span().start), idx, depth + 1)?;
        n.line = kline;
        members.push((k.get_ref().to_string(), n));
    }
    Ok(Node::new(line, Val::Obj(members)))
}

fn value(v: &DeValue<'_>, line: u32, idx: &LineIndex, depth: usize) -> Result<Node, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(SyntaxError {
            line,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    Ok(match v {
        DeValue::String(s) => Node::new(line, Val::Str(s.to_string())),
        DeValue::Integer(i) => Node::new(line, Val::Num(i.as_str().to_owned())),
        DeValue::Float(f) => Node::new(line, Val::Num(f.as_str().to_owned())),
        DeValue::Boolean(b) => Node::new(line, Val::Bool(*b)),
        DeValue::Datetime(d) => Node::new(line, Val::Str(d.to_string())),
        DeValue::Array(a) => {
            let mut items = Vec::with_capacity(a.len());
            for e in a {
                items.push(value(
                    e.get_ref(),
                    idx.line(e.span().start),
                    idx,
                    depth + 1,
                )?);
            }
            Node::new(line, Val::Arr(items))
        }
        DeValue::Table(t) => table(t, line, idx, depth)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_array_tables() {
        let t = "version = 1\n\n[[package]]\nname = \"a\"\nversion = \"1.0\"\n\n[[package]]\nname = \"b\"\nversion = \"2\"\n";
        let n = parse(t).unwrap();
        let p = n.get("package").unwrap().items();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].str_of("name"), Some("b"));
        assert_eq!(p[1].get("name").unwrap().line, 8);
        assert_eq!(p[1].str_of("version"), Some("2"));
    }

    #[test]
    fn errors_carry_lines() {
        let e = parse("a = 1\nb = [\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        let e = parse("a = 1\na = 2\n").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        let deep = format!("a = {}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&deep).is_err());
    }
}
