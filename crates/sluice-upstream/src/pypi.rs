//! Reading PEP 503 (HTML) and PEP 691 (JSON) simple index pages.

use url::Url;

/// One file listed on a project's simple index page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexFile {
    /// File name (`pkg-1.0.tar.gz`).
    pub filename: String,
    /// Absolute download URL, fragment removed.
    pub url: Url,
    /// sha256 from the page (`hashes` in JSON, `#sha256=` in HTML).
    pub sha256: Option<String>,
    /// PEP 592: the file is yanked.
    pub yanked: bool,
    /// PEP 700 upload time, as given.
    pub upload_time: Option<String>,
}

impl IndexFile {
    /// The version encoded in the file name, if it can be read.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        version_of(&self.filename)
    }

    /// True for source distributions.
    #[must_use]
    pub fn is_sdist(&self) -> bool {
        let f = self.filename.to_ascii_lowercase();
        f.ends_with(".tar.gz") || f.ends_with(".zip") || f.ends_with(".tar.bz2")
    }
}

/// The version part of a wheel or sdist file name.
#[must_use]
pub fn version_of(filename: &str) -> Option<&str> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform
        return stem.split('-').nth(1);
    }
    let lower = filename.to_ascii_lowercase();
    let stem_len = [".tar.gz", ".tar.bz2", ".zip", ".tgz"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map(|ext| filename.len() - ext.len())?;
    filename[..stem_len].rsplit_once('-').map(|(_, v)| v)
}

/// Parse a PEP 691 JSON project page. `base` resolves relative URLs.
///
/// # Errors
/// A message when the JSON does not have the PEP 691 shape.
pub fn parse_simple_json(body: &[u8], base: &Url) -> Result<Vec<IndexFile>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let files = v
        .get("files")
        .and_then(|f| f.as_array())
        .ok_or("no `files` array")?;
    let mut out = Vec::with_capacity(files.len().min(10_000));
    for f in files {
        let (Some(filename), Some(href)) = (
            f.get("filename").and_then(|x| x.as_str()),
            f.get("url").and_then(|x| x.as_str()),
        ) else {
            continue;
        };
        let Ok(mut url) = base.join(href) else {
            continue;
        };
        url.set_fragment(None);
        let yanked = match f.get("yanked") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(_)) => true,
            _ => false,
        };
        out.push(IndexFile {
            filename: filename.to_owned(),
            url,
            sha256: f
                .pointer("/hashes/sha256")
                .and_then(|x| x.as_str())
                .map(str::to_owned),
            yanked,
            upload_time: f
                .get("upload-time")
                .and_then(|x| x.as_str())
                .map(str::to_owned),
        });
    }
    Ok(out)
}

/// Parse a PEP 503 HTML project page. `base` resolves relative URLs.
/// Tolerant: anything that is not an `<a href>` is ignored.
#[must_use]
pub fn parse_simple_html(body: &str, base: &Url) -> Vec<IndexFile> {
    let mut out = Vec::new();
    let lower = body.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<a ").map(|i| i + pos) {
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let tag = &body[start..tag_end];
        let text_end = lower[tag_end..]
            .find("</a>")
            .map_or(body.len(), |i| i + tag_end);
        let text = body[tag_end + 1..text_end.max(tag_end + 1)].trim();
        pos = text_end.max(tag_end + 1);
        let Some(href) = attr(tag, "href") else {
            continue;
        };
        let href = html_unescape(&href);
        let Ok(mut url) = base.join(&href) else {
            continue;
        };
        let sha256 = url
            .fragment()
            .and_then(|f| f.strip_prefix("sha256="))
            .map(str::to_owned);
        url.set_fragment(None);
        let filename = if text.is_empty() {
            url.path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_owned()
        } else {
            html_unescape(text)
        };
        out.push(IndexFile {
            filename,
            url,
            sha256,
            yanked: attr(tag, "data-yanked").is_some(),
            upload_time: None,
        });
    }
    out
}

/// The value of attribute `name` in an HTML start tag, quoted or not.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before_ok = i == 0
            || lower
                .as_bytes()
                .get(i - 1)
                .is_some_and(u8::is_ascii_whitespace);
        let rest = tag[from..].trim_start();
        if !before_ok {
            continue;
        }
        let Some(rest) = rest.strip_prefix('=') else {
            // A bare attribute (`data-yanked`).
            return Some(String::new());
        };
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or_default(),
            _ => rest
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or_default(),
        };
        return Some(value.to_owned());
    }
    None
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version_of("pkg_a-1.2.0-py3-none-any.whl"), Some("1.2.0"));
        assert_eq!(version_of("python-dateutil-2.9.0.tar.gz"), Some("2.9.0"));
        assert_eq!(version_of("x.exe"), None);
    }

    #[test]
    fn html() {
        let base = Url::parse("http://127.0.0.1:9/simple/pkg/").unwrap();
        let page = r#"<html><body>
<a href="../../files/pkg-1.0.tar.gz#sha256=abcd" data-requires-python="&gt;=3">pkg-1.0.tar.gz</a>
<A HREF='pkg-1.1-py3-none-any.whl' data-yanked>pkg-1.1-py3-none-any.whl</A>
<a name="x">no href</a>
</body></html>"#;
        let files = parse_simple_html(page, &base);
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url.as_str(),
            "http://127.0.0.1:9/files/pkg-1.0.tar.gz"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("abcd"));
        assert!(!files[0].yanked);
        assert!(files[1].yanked);
        assert_eq!(files[1].version(), Some("1.1"));
    }

    #[test]
    fn json() {
        let base = Url::parse("http://127.0.0.1:9/simple/pkg/").unwrap();
        let body = br#"{"meta":{"api-version":"1.1"},"name":"pkg","files":[
{"filename":"pkg-1.0.tar.gz","url":"/f/pkg-1.0.tar.gz","hashes":{"sha256":"aa"},"yanked":"bad"},
{"filename":"pkg-2.0.tar.gz","url":"https://127.0.0.1:9/f/pkg-2.0.tar.gz","hashes":{}}]}"#;
        let files = parse_simple_json(body, &base).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].yanked);
        assert_eq!(files[0].url.as_str(), "http://127.0.0.1:9/f/pkg-1.0.tar.gz");
        assert!(parse_simple_json(b"[]", &base).is_err());
        assert!(parse_simple_json(b"{", &base).is_err());
    }
}
