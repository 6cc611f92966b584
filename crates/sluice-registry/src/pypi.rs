//! PyPI simple API: parsing upstream project pages (PEP 691 JSON or PEP 503
//! HTML) and rendering the gate's own pages.

use serde_json::{Value, json};

use crate::RegistryError;

/// One file of a project page, as upstream described it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PyFile {
    /// File name (a single safe path segment).
    pub filename: String,
    /// Absolute upstream URL (fragment removed).
    pub url: String,
    /// Version taken from the file name.
    pub version: String,
    /// sha256 hex from the hashes dict or the URL fragment.
    pub sha256: Option<String>,
    /// `requires-python`.
    pub requires_python: Option<String>,
    /// PEP 592: `None` = not yanked; `Some(reason)` (maybe empty) = yanked.
    pub yanked: Option<String>,
    /// PEP 658/714: `None` = no metadata file; `Some(hash)` = present,
    /// with its own sha256 when upstream gave it.
    pub core_metadata: Option<Option<String>>,
    /// Size in bytes (PEP 700).
    pub size: Option<u64>,
    /// Upload time (PEP 700).
    pub upload_time: Option<String>,
}

/// A parsed upstream project page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectPage {
    /// Files, in upstream order.
    pub files: Vec<PyFile>,
    /// Versions upstream listed (PEP 700), plus those seen in files.
    pub versions: Vec<String>,
    /// PEP 792 status upstream gave, if any.
    pub status: Option<String>,
}

/// A file name the gate is willing to put in a URL path: one segment of
/// ordinary characters, no `..`, no encoding tricks.
#[must_use]
pub fn safe_filename(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains("..")
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'!' | b'~')
        })
}

fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut sep = false;
    for c in s.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !sep {
                out.push('-');
            }
            sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            sep = false;
        }
    }
    out
}

const SDIST_EXTS: &[&str] = &[".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip"];

/// The version in a distribution's file name, given the normalised project
/// name.
#[must_use]
pub fn version_from_filename(project: &str, filename: &str) -> Option<String> {
    if let Some(stem) = filename
        .strip_suffix(".whl")
        .or_else(|| filename.strip_suffix(".egg"))
    {
        return stem.split('-').nth(1).map(str::to_owned);
    }
    let stem = SDIST_EXTS
        .iter()
        .find_map(|e| filename.strip_suffix(e))
        .or_else(|| filename.rsplit_once('.').map(|(s, _)| s))?;
    for (i, _) in stem.match_indices('-') {
        if normalize(&stem[..i]) == project {
            return Some(stem[i + 1..].to_owned()).filter(|v| !v.is_empty());
        }
    }
    stem.rsplit_once('-')
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn split_fragment(url: &str) -> (&str, Option<String>) {
    match url.split_once('#') {
        Some((base, frag)) => {
            let sha = frag
                .split('&')
                .find_map(|kv| kv.strip_prefix("sha256="))
                .map(str::to_ascii_lowercase);
            (base, sha)
        }
        None => (url, None),
    }
}

fn valid_hex64(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

fn finish_file(page_url: &url::Url, project: &str, mut f: PyFile, raw_url: &str) -> Option<PyFile> {
    let (base, frag_sha) = split_fragment(raw_url);
    let abs = page_url.join(base).ok()?;
    if !matches!(abs.scheme(), "http" | "https") {
        return None;
    }
    f.url = abs.to_string();
    if f.sha256.is_none() {
        f.sha256 = frag_sha;
    }
    f.sha256 = f.sha256.as_deref().and_then(valid_hex64);
    if f.filename.is_empty() {
        f.filename = abs
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("")
            .to_owned();
    }
    if !safe_filename(&f.filename) {
        tracing::warn!(project, filename = %f.filename.escape_debug(), "skipping upstream file with an unsafe name");
        return None;
    }
    f.version = version_from_filename(project, &f.filename)?;
    Some(f)
}

/// Parse a PEP 691 JSON project page.
///
/// # Errors
/// The body is not JSON or lacks `files`.
pub fn parse_json(
    page_url: &url::Url,
    project: &str,
    body: &[u8],
) -> Result<ProjectPage, RegistryError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| RegistryError::Upstream(format!("malformed project JSON: {e}")))?;
    let files = v
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| RegistryError::Upstream("project JSON has no `files` list".into()))?;
    let mut page = ProjectPage::default();
    for f in files {
        let Some(url) = f.get("url").and_then(Value::as_str) else {
            continue;
        };
        let s = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
        let yanked = match f.get("yanked") {
            Some(Value::Bool(true)) => Some(String::new()),
            Some(Value::String(r)) => Some(r.clone()),
            _ => None,
        };
        let cm = f
            .get("core-metadata")
            .or_else(|| f.get("data-dist-info-metadata"));
        let core_metadata = match cm {
            Some(Value::Bool(true)) => Some(None),
            Some(Value::Object(h)) => Some(
                h.get("sha256")
                    .and_then(Value::as_str)
                    .and_then(valid_hex64),
            ),
            _ => None,
        };
        let pf = PyFile {
            filename: s("filename").unwrap_or_default(),
            sha256: f
                .get("hashes")
                .and_then(|h| h.get("sha256"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            requires_python: s("requires-python"),
            yanked,
            core_metadata,
            size: f.get("size").and_then(Value::as_u64),
            upload_time: s("upload-time"),
            ..PyFile::default()
        };
        if let Some(pf) = finish_file(page_url, project, pf, url) {
            page.files.push(pf);
        }
    }
    if let Some(vs) = v.get("versions").and_then(Value::as_array) {
        page.versions = vs
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    page.status = v
        .get("project-status")
        .and_then(|s| s.get("status"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    add_file_versions(&mut page);
    Ok(page)
}

fn add_file_versions(page: &mut ProjectPage) {
    for f in &page.files {
        if !page.versions.contains(&f.version) {
            page.versions.push(f.version.clone());
        }
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Attributes of one tag: `name → value` (names lower-cased).
fn parse_attrs(tag: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = tag[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                let v = &tag[vs..i];
                i += 1;
                v
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &tag[vs..i]
            };
            out.push((name, Some(decode_entities(value))));
        } else {
            out.push((name, None));
        }
    }
    out
}

/// Parse a PEP 503 HTML project page. Tolerant: anything that is not a
/// well-formed anchor is skipped.
#[must_use]
pub fn parse_html(page_url: &url::Url, project: &str, body: &[u8]) -> ProjectPage {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let mut page = ProjectPage::default();
    let mut pos = 0;
    while let Some(off) = lower.get(pos..).and_then(|s| s.find("<a")) {
        let start = pos + off + 2;
        pos = start;
        if !lower[start..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let Some(gt) = lower[start..].find('>') else {
            break;
        };
        let tag = &text[start..start + gt];
        let body_start = start + gt + 1;
        let Some(close) = lower[body_start..].find("</a") else {
            break;
        };
        let anchor_text = decode_entities(text[body_start..body_start + close].trim());
        pos = body_start + close;
        let attrs = parse_attrs(tag);
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let Some(Some(href)) = get("href") else {
            continue;
        };
        let core_metadata = get("data-core-metadata")
            .or_else(|| get("data-dist-info-metadata"))
            .and_then(|v| match v.as_deref() {
                Some("false") => None,
                Some(h) => Some(h.strip_prefix("sha256=").and_then(valid_hex64)),
                None => Some(None),
            });
        let pf = PyFile {
            filename: anchor_text,
            requires_python: get("data-requires-python").flatten(),
            yanked: get("data-yanked").map(Option::unwrap_or_default),
            core_metadata,
            ..PyFile::default()
        };
        if let Some(pf) = finish_file(page_url, project, pf, &href) {
            page.files.push(pf);
        }
    }
    if let Some(i) = lower.find("name=\"pypi:project-status\"") {
        let tail = &text[i..];
        if let Some(c) = tail.find("content=\"") {
            let v = &tail[c + 9..];
            page.status = v.split('"').next().map(str::to_owned);
        }
    }
    add_file_versions(&mut page);
    page
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The gate's URL for a file: `{base}/files/pypi/{project}/{filename}`.
#[must_use]
pub fn file_url(base: &str, project: &str, filename: &str) -> String {
    format!("{base}/files/pypi/{project}/{filename}")
}

/// Render the project page as PEP 503/629/592/658/714/792 HTML.
#[must_use]
pub fn render_html(base: &str, project: &str, files: &[&PyFile], quarantined: bool) -> String {
    let mut s = String::with_capacity(256 + files.len() * 200);
    s.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.1\">\n");
    if quarantined {
        s.push_str("<meta name=\"pypi:project-status\" content=\"quarantined\">\n<meta name=\"pypi:project-status-reason\" content=\"blocked by sluice\">\n");
    }
    s.push_str(&format!(
        "<title>Links for {}</title>\n</head>\n<body>\n<h1>Links for {}</h1>\n",
        esc(project),
        esc(project)
    ));
    for f in files {
        let mut href = file_url(base, project, &f.filename);
        if let Some(h) = &f.sha256 {
            href.push_str("#sha256=");
            href.push_str(h);
        }
        s.push_str(&format!("<a href=\"{}\"", esc(&href)));
        if let Some(rp) = &f.requires_python {
            s.push_str(&format!(" data-requires-python=\"{}\"", esc(rp)));
        }
        if let Some(cm) = &f.core_metadata {
            let v = cm
                .as_ref()
                .map_or_else(|| "true".to_owned(), |h| format!("sha256={h}"));
            s.push_str(&format!(
                " data-core-metadata=\"{v}\" data-dist-info-metadata=\"{v}\""
            ));
        }
        if let Some(y) = &f.yanked {
            s.push_str(&format!(" data-yanked=\"{}\"", esc(y)));
        }
        s.push_str(&format!(">{}</a><br>\n", esc(&f.filename)));
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// Render the project page as PEP 691 JSON (API 1.1 fields, PEP 792 status).
#[must_use]
pub fn render_json(
    base: &str,
    project: &str,
    files: &[&PyFile],
    versions: &[String],
    quarantined: bool,
) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let mut o = serde_json::Map::new();
            o.insert("filename".into(), json!(f.filename));
            o.insert("url".into(), json!(file_url(base, project, &f.filename)));
            let hashes = f
                .sha256
                .as_ref()
                .map_or_else(|| json!({}), |h| json!({"sha256": h}));
            o.insert("hashes".into(), hashes);
            if let Some(rp) = &f.requires_python {
                o.insert("requires-python".into(), json!(rp));
            }
            let cm = match &f.core_metadata {
                None => json!(false),
                Some(None) => json!(true),
                Some(Some(h)) => json!({"sha256": h}),
            };
            o.insert("core-metadata".into(), cm.clone());
            o.insert("data-dist-info-metadata".into(), cm);
            o.insert(
                "yanked".into(),
                match &f.yanked {
                    None => json!(false),
                    Some(r) if r.is_empty() => json!(true),
                    Some(r) => json!(r),
                },
            );
            if let Some(sz) = f.size {
                o.insert("size".into(), json!(sz));
            }
            if let Some(t) = &f.upload_time {
                o.insert("upload-time".into(), json!(t));
            }
            Value::Object(o)
        })
        .collect();
    let mut doc = json!({
        "meta": {"api-version": "1.1"},
        "name": project,
        "files": files,
        "versions": versions,
    });
    if quarantined && let Some(o) = doc.as_object_mut() {
        o.insert(
            "project-status".into(),
            json!({"status": "quarantined", "reason": "blocked by sluice"}),
        );
        if let Some(m) = o.get_mut("meta").and_then(Value::as_object_mut) {
            m.insert("api-version".into(), json!("1.4"));
        }
    }
    doc
}

/// Which representation a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/vnd.pypi.simple.v1+json`.
    Json,
    /// `application/vnd.pypi.simple.v1+html`.
    HtmlV1,
    /// `text/html`.
    Html,
}

impl Format {
    /// The concrete Content-Type to answer with.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/vnd.pypi.simple.v1+json",
            Format::HtmlV1 => "application/vnd.pypi.simple.v1+html",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// PEP 691 negotiation: the best format by q-value (JSON wins ties), or
/// `None` when nothing acceptable was asked for (answer 406). `format` is
/// the optional `?format=` override.
#[must_use]
pub fn negotiate(accept: Option<&str>, format: Option<&str>) -> Option<Format> {
    let pick =
        |t: &str| -> Option<Format> {
            match t {
                "application/vnd.pypi.simple.v1+json"
                | "application/vnd.pypi.simple.latest+json" => Some(Format::Json),
                "application/vnd.pypi.simple.v1+html"
                | "application/vnd.pypi.simple.latest+html" => Some(Format::HtmlV1),
                "text/html" | "text/*" | "*/*" => Some(Format::Html),
                _ => None,
            }
        };
    if let Some(f) = format {
        return pick(f);
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Format::Html);
    };
    let mut best: Option<(f32, Format)> = None;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let t = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let Some(fmt) = pick(&t) else { continue };
        let better = match best {
            None => true,
            Some((bq, bf)) => q > bq || (q == bq && fmt == Format::Json && bf != Format::Json),
        };
        if better {
            best = Some((q, fmt));
        }
    }
    best.map(|(_, f)| f)
}

/// Rough PEP 440 ordering key, good enough to pick a "latest" release for
/// the JSON API: numeric release segments, then pre-releases before finals.
#[must_use]
pub fn version_key(v: &str) -> (Vec<u64>, bool, String) {
    let v = v.trim_start_matches(['v', 'V']);
    let mut nums = Vec::new();
    let mut rest = String::new();
    for (i, seg) in v.split('.').enumerate() {
        let digits: String = seg.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() == seg.len() && !seg.is_empty() {
            nums.push(digits.parse().unwrap_or(u64::MAX));
        } else {
            if !digits.is_empty() {
                nums.push(digits.parse().unwrap_or(u64::MAX));
            }
            rest = v.split('.').skip(i).collect::<Vec<_>>().join(".");
            rest = rest
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .to_owned();
            break;
        }
    }
    // A final release sorts after its pre-releases; `.post` sorts after.
    let is_final = rest.is_empty() || rest.starts_with("post") || rest.starts_with('+');
    (nums, is_final, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("http://127.0.0.1:9/simple/demo/").unwrap()
    }

    #[test]
    fn versions_from_names() {
        assert_eq!(
            version_from_filename("demo", "demo-1.0-py3-none-any.whl").as_deref(),
            Some("1.0")
        );
        assert_eq!(
            version_from_filename("my-pkg", "my.pkg-2.0rc1.tar.gz").as_deref(),
            Some("2.0rc1")
        );
        assert_eq!(
            version_from_filename("my-pkg", "My_Pkg-3.zip").as_deref(),
            Some("3")
        );
        assert_eq!(version_from_filename("x", "x.tar.gz"), None);
    }

    #[test]
    fn html_parse_and_tricks() {
        let html = br#"<html><body>
<a href="../../files/demo-1.0.tar.gz#sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" data-requires-python="&gt;=3.8" data-yanked="">demo-1.0.tar.gz</a>
<A HREF='/f/demo-2.0-py3-none-any.whl' data-dist-info-metadata="sha256=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb">demo-2.0-py3-none-any.whl</A>
<a href="/f/..%2f..%2fetc">../../etc/passwd</a>
<a href="javascript:alert(1)">demo-3.0.tar.gz</a>
<a href="/x">unterminated
"#;
        let p = parse_html(&base(), "demo", html);
        assert_eq!(p.files.len(), 2, "{p:?}");
        let f = &p.files[0];
        assert_eq!(f.url, "http://127.0.0.1:9/files/demo-1.0.tar.gz");
        assert_eq!(f.sha256.as_deref(), Some("a".repeat(64).as_str()));
        assert_eq!(f.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(f.yanked.as_deref(), Some(""));
        assert_eq!(f.core_metadata, None);
        assert_eq!(p.files[1].core_metadata, Some(Some("b".repeat(64))));
        assert_eq!(p.versions, vec!["1.0", "2.0"]);
    }

    #[test]
    fn json_parse_roundtrip() {
        let body = json!({"meta":{"api-version":"1.1"},"name":"demo","versions":["1.0"],"files":[
            {"filename":"demo-1.0.tar.gz","url":"https://127.0.0.1/x/demo-1.0.tar.gz","hashes":{"sha256":"c".repeat(64)},
             "yanked":"bad","core-metadata":{"sha256":"d".repeat(64)},"size":12,"upload-time":"2020-01-01T00:00:00Z"},
            {"filename":"../evil","url":"https://127.0.0.1/evil","hashes":{}}
        ]});
        let p = parse_json(&base(), "demo", body.to_string().as_bytes()).unwrap();
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.files[0].yanked.as_deref(), Some("bad"));
        let refs: Vec<&PyFile> = p.files.iter().collect();
        let out = render_json("", "demo", &refs, &p.versions, false);
        assert_eq!(out["files"][0]["url"], "/files/pypi/demo/demo-1.0.tar.gz");
        assert_eq!(out["files"][0]["core-metadata"]["sha256"], "d".repeat(64));
        assert_eq!(out["files"][0]["upload-time"], "2020-01-01T00:00:00Z");
        let html = render_html("", "demo", &refs, false);
        assert!(html.contains("#sha256=cccc"));
        assert!(html.contains("data-yanked=\"bad\""));
        // What we render, we parse back the same.
        let back = parse_html(
            &url::Url::parse("http://127.0.0.1/simple/demo/").unwrap(),
            "demo",
            html.as_bytes(),
        );
        assert_eq!(back.files[0].sha256, p.files[0].sha256);
        assert!(parse_json(&base(), "demo", b"{not json").is_err());
        assert!(parse_json(&base(), "demo", b"{}").is_err());
    }

    #[test]
    fn negotiation() {
        let pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        assert_eq!(negotiate(Some(pip), None), Some(Format::Json));
        assert_eq!(negotiate(Some("text/html"), None), Some(Format::Html));
        assert_eq!(negotiate(None, None), Some(Format::Html));
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.latest+html"), None),
            Some(Format::HtmlV1)
        );
        assert_eq!(negotiate(Some("image/png"), None), None);
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.v1+json;q=0"), None),
            None
        );
        assert_eq!(
            negotiate(
                Some("text/html"),
                Some("application/vnd.pypi.simple.v1+json")
            ),
            Some(Format::Json)
        );
    }

    #[test]
    fn version_order() {
        let mut v = vec!["1.10", "1.2", "2.0rc1", "1.9.post1", "2.0"];
        v.sort_by_key(|s| version_key(s));
        assert_eq!(v, vec!["1.2", "1.9.post1", "1.10", "2.0rc1", "2.0"]);
    }
}
