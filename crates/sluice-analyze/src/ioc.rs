//! Indicators of compromise: extraction (`INTEL5xx`) and matching against a
//! user-supplied set.
//!
//! [`extract`] pulls IPv4/IPv6 addresses, URLs, domains, e-mail addresses
//! and webhook / exfiltration-service endpoints out of any text in one
//! linear pass per pattern (regexes and one Aho-Corasick automaton, built
//! once). [`findings`] turns the telling ones into findings:
//!
//! | code | name | when |
//! | --- | --- | --- |
//! | INTEL501 | ioc-match | an indicator matches the user's indicator file |
//! | INTEL502 | exfil-endpoint | a chat webhook, paste site, tunnel or request-bin host in code |
//! | INTEL503 | raw-ip-url | a URL on a public IP address in code that runs unasked |
//!
//! [`IocSet`] is the user's indicator file (`--ioc-file`): one IP, CIDR
//! range, domain (matching its subdomains), URL, e-mail address or sha256
//! per line; `#` starts a comment. See `docs/ioc.md`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use sluice_model::{Confidence, Finding, Indicator, IndicatorKind, RuleCode, Severity, Sha256};

use crate::SourceFile;

/// Most indicators kept per file: a data file listing ten thousand URLs
/// says nothing more with the ten-thousandth.
pub const MAX_PER_FILE: usize = 500;

fn re(p: &str) -> Regex {
    // Built-in constant patterns, exercised by the tests. Word boundaries
    // are ASCII (`(?-u:\b)`): indicators are ASCII, and a Unicode `\b`
    // makes the regex engine fall back to its slow NFA simulation on any
    // non-ASCII text (it was 9 % of scan time on real packages).
    Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern {p}: {e}"))
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)(?-u:\b)(?:https?|ftp|wss?)://[^\s"'<>`\\)\]}|^{]+"#));
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?-u:\b)",
    )
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?-u:\b)",
    )
});
/// A bare domain in a string of its own: opening quote, an optional
/// leading dot, the name, then a closing quote, `:` or `/`. The quote in
/// front gives the regex engine a literal to look for, so the text between
/// strings is skipped at memchr speed.
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)["'`]\.?(?-u:\b)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}(?:com|net|org|ru|cn|xyz|top|info|biz|tk|ml|ga|cf|gq|pw|cc|su|onion|site|online|club|icu|shop|live|space|fun|host|website|tech|store|pro)(?-u:\b)["'`:/]"#,
    )
});

/// What an exfiltration endpoint pattern is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    /// Chat webhooks and bot APIs: stolen data lands in a chat.
    Webhook,
    /// Request bins, tunnels, out-of-band interaction catchers.
    Catcher,
    /// Paste and anonymous file-drop sites.
    Paste,
}

const SERVICES: &[(&str, Service)] = &[
    ("discord.com/api/webhooks/", Service::Webhook),
    ("discordapp.com/api/webhooks/", Service::Webhook),
    ("hooks.slack.com/services/", Service::Webhook),
    ("api.telegram.org/bot", Service::Webhook),
    ("webhook.office.com/webhookb2/", Service::Webhook),
    ("webhook.site", Service::Catcher),
    ("pipedream.net", Service::Catcher),
    ("requestbin.com", Service::Catcher),
    ("requestbin.net", Service::Catcher),
    ("requestcatcher.com", Service::Catcher),
    ("hookbin.com", Service::Catcher),
    ("beeceptor.com", Service::Catcher),
    ("ngrok.io", Service::Catcher),
    ("ngrok-free.app", Service::Catcher),
    ("ngrok.app", Service::Catcher),
    ("ngrok-free.dev", Service::Catcher),
    ("trycloudflare.com", Service::Catcher),
    ("serveo.net", Service::Catcher),
    ("loca.lt", Service::Catcher),
    ("localtunnel.me", Service::Catcher),
    ("interact.sh", Service::Catcher),
    ("interactsh.com", Service::Catcher),
    ("oast.fun", Service::Catcher),
    ("oast.pro", Service::Catcher),
    ("oast.live", Service::Catcher),
    ("oast.site", Service::Catcher),
    ("oast.online", Service::Catcher),
    ("oast.me", Service::Catcher),
    ("oastify.com", Service::Catcher),
    ("burpcollaborator.net", Service::Catcher),
    ("canarytokens.com", Service::Catcher),
    ("dnslog.cn", Service::Catcher),
    ("ceye.io", Service::Catcher),
    ("pastebin.com", Service::Paste),
    ("paste.ee", Service::Paste),
    ("hastebin.com", Service::Paste),
    ("rentry.co", Service::Paste),
    ("ghostbin.co", Service::Paste),
    ("controlc.com", Service::Paste),
    ("transfer.sh", Service::Paste),
    ("bashupload.com", Service::Paste),
    ("0x0.st", Service::Paste),
    ("temp.sh", Service::Paste),
    ("file.io", Service::Paste),
];

static SERVICE_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(SERVICES.iter().map(|(p, _)| *p))
        .unwrap_or_else(|e| panic!("built-in service patterns: {e}"))
});

/// The kind of exfiltration service a string names (a chat webhook or bot
/// API, a request catcher or tunnel, a paste or file-drop site), if any.
#[must_use]
pub fn exfil_service(s: &str) -> Option<&'static str> {
    if s.len() > 4096 {
        return None;
    }
    SERVICE_AC
        .find(s)
        .map(|m| match SERVICES[m.pattern().as_usize()].1 {
            Service::Webhook => "chat webhook / bot API",
            Service::Catcher => "request catcher / tunnel",
            Service::Paste => "paste / file-drop site",
        })
}

/// TLDs that make an `x@y.tld` an e-mail address rather than an asset
/// name (`icon@2x.png`) or a package (`pkg@1.2.3`).
fn is_mail_tld(t: &str) -> bool {
    !matches!(
        t.to_ascii_lowercase().as_str(),
        "png"
            | "jpg"
            | "jpeg"
            | "gif"
            | "svg"
            | "webp"
            | "js"
            | "mjs"
            | "cjs"
            | "ts"
            | "json"
            | "css"
            | "map"
            | "md"
            | "txt"
            | "html"
            | "py"
            | "node"
            | "wasm"
            | "woff"
            | "woff2"
            | "ttf"
            | "d"
            | "min"
    )
}

/// Byte offsets of line starts, for offset → line.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines(v)
    }
    fn line(&self, off: usize) -> u32 {
        match self.0.binary_search(&off) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

/// How interesting an indicator is on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interest {
    /// Private, link-local, documentation or example addresses.
    Low,
    /// Anything else.
    Normal,
    /// Webhook and exfiltration endpoints.
    High,
}

/// The interest of an extracted indicator.
#[must_use]
pub fn interest(ind: &Indicator) -> Interest {
    match ind.kind {
        IndicatorKind::Webhook => Interest::High,
        IndicatorKind::Ip => match ind.value.parse::<IpAddr>() {
            Ok(ip) if is_public(ip) => Interest::Normal,
            _ => Interest::Low,
        },
        IndicatorKind::Url | IndicatorKind::Domain => {
            let host = url_host(&ind.value).unwrap_or(&ind.value);
            if is_example_host(host) || host.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip)) {
                Interest::Low
            } else {
                Interest::Normal
            }
        }
        IndicatorKind::Email => {
            let d = ind.value.rsplit('@').next().unwrap_or("");
            if is_example_host(d) {
                Interest::Low
            } else {
                Interest::Normal
            }
        }
    }
}

fn is_example_host(h: &str) -> bool {
    let h = h.trim_end_matches('.');
    [
        "example.com",
        "example.org",
        "example.net",
        "localhost",
        "test",
        "invalid",
        "example",
        "local",
    ]
    .iter()
    .any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

/// RFC 5737 documentation ranges.
fn is_documentation(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    matches!(o, [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _])
}

/// Not private, loopback, link-local, documentation or otherwise special.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast()
                || is_documentation(v)
                || v.octets()[0] == 0
                || (v.octets()[0] == 100 && (64..128).contains(&v.octets()[1])))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// An `http(s)://` URL whose host is an IPv4 literal outside private,
/// loopback and link-local space (documentation ranges count: they stand
/// for public addresses in examples and fixtures). A hard-coded address
/// is where a stealer's server sits; services people publish have names.
#[must_use]
pub fn is_raw_ip_url(s: &str) -> bool {
    let l = s.trim();
    if !(l.starts_with("http://") || l.starts_with("https://")) {
        return false;
    }
    url_host(l)
        .and_then(|h| h.parse::<Ipv4Addr>().ok())
        .is_some_and(|v| is_public(IpAddr::V4(v)) || is_documentation(v))
}

/// The host of a URL, lower-case as given.
fn url_host(u: &str) -> Option<&str> {
    let rest = u.split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?;
    let auth = auth.rsplit('@').next()?;
    let host = if let Some(v6) = auth.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        auth.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn valid_hostname(h: &str) -> bool {
    if h.len() > 253 || !h.contains('.') {
        return h == "localhost";
    }
    let labels: Vec<&str> = h.trim_end_matches('.').split('.').collect();
    labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    }) && labels.last().is_some_and(|t| {
        t.len() >= 2 && (t.bytes().all(|b| b.is_ascii_alphabetic()) || t.starts_with("xn--"))
    })
}

fn byte_at(t: &str, i: usize) -> u8 {
    t.as_bytes().get(i).copied().unwrap_or(b' ')
}

fn before(t: &str, i: usize) -> u8 {
    if i == 0 { b' ' } else { byte_at(t, i - 1) }
}

/// Is this dotted quad really an address and not a version (`v1.2.3.4`,
/// `version: "4.1.0.2"`, OIDs such as `1.3.6.1.4.1`)?
fn ipv4_context_ok(text: &str, s: usize, e: usize) -> bool {
    let b = before(text, s);
    if b == b'.' || b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
        return false;
    }
    if byte_at(text, e) == b'.' && byte_at(text, e + 1).is_ascii_digit() {
        return false;
    }
    if byte_at(text, e).is_ascii_alphanumeric() || byte_at(text, e) == b'-' {
        return false;
    }
    // Look back on the same line for a version context.
    // Look back at most 24 bytes, and not past the line start (searching
    // only the window keeps this constant-time on one-line bundles).
    let mut from = s.saturating_sub(24);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let window = &text[from..s];
    let window = window.rfind('\n').map_or(window, |i| &window[i + 1..]);
    let ctx = window.to_ascii_lowercase();
    // Specification section numbers look like addresses too
    // (`// 13.3.3.7 Runtime Semantics`, `step 12.1.1.4`).
    !([
        "version", "ver ", "section", "step", "§", "clause", "rfc", "chapter",
    ]
    .iter()
    .any(|w| ctx.contains(w))
        || ctx.ends_with('v')
        || ctx.ends_with('@')
        || ctx.trim_end().ends_with("//")
        || ctx.trim_end().ends_with('*'))
}

/// Extract every indicator from one file.
#[must_use]
pub fn extract(file: &SourceFile<'_>) -> Vec<Indicator> {
    let text = file.text;
    let lines = Lines::new(text);
    let mut out: Vec<Indicator> = Vec::new();
    let push = |out: &mut Vec<Indicator>, kind, value: String, off: usize| {
        if out.len() < MAX_PER_FILE {
            out.push(Indicator {
                kind,
                value,
                file: file.path.to_owned(),
                line: lines.line(off),
            });
        }
    };
    let bytes = text.as_bytes();
    let has = |n: &[u8]| memchr::memmem::find(bytes, n).is_some();

    if has(b"://") {
        for m in URL.find_iter(text) {
            let u = m
                .as_str()
                .trim_end_matches(['.', ',', ';', ':', '!', '?', '*']);
            let Some(host) = url_host(u) else { continue };
            let host_l = host.to_ascii_lowercase();
            let ip = host_l.parse::<IpAddr>().ok();
            if ip.is_none() && !valid_hostname(&host_l) {
                continue;
            }
            if ip.is_some_and(|i| {
                i.to_canonical().is_loopback() || i.to_canonical().is_unspecified()
            }) || host_l == "localhost"
            {
                continue;
            }
            let (scheme, rest) = u.split_once("://").unwrap_or(("", u));
            let value = format!(
                "{}://{}",
                scheme.to_ascii_lowercase(),
                rest.replacen(host, &host_l, 1)
            );
            push(&mut out, IndicatorKind::Url, value, m.start());
            match ip {
                Some(ip) => push(&mut out, IndicatorKind::Ip, ip.to_string(), m.start()),
                None => push(&mut out, IndicatorKind::Domain, host_l, m.start()),
            }
        }
    }
    if bytes.iter().filter(|&&b| b == b'.').take(3).count() == 3 {
        for m in IPV4.find_iter(text) {
            if !ipv4_context_ok(text, m.start(), m.end()) {
                continue;
            }
            let Ok(ip) = m.as_str().parse::<Ipv4Addr>() else {
                continue;
            };
            if ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[3] == 255 && ip.octets()[2] == 255
            {
                continue;
            }
            push(&mut out, IndicatorKind::Ip, ip.to_string(), m.start());
        }
    }
    if has(b"::") || bytes.iter().filter(|&&b| b == b':').take(7).count() == 7 {
        for m in IPV6.find_iter(text) {
            let s = m.as_str();
            let b = before(text, m.start());
            let a = byte_at(text, m.end());
            if b.is_ascii_alphanumeric()
                || matches!(b, b':' | b'.' | b'_' | b'$')
                || a.is_ascii_alphanumeric()
                || matches!(a, b':' | b'.' | b'_')
            {
                continue;
            }
            let groups: Vec<&str> = s.split(':').collect();
            let full = groups.len() == 8 && groups.iter().all(|g| !g.is_empty());
            if !(s.contains("::") || full) || !groups.iter().any(|g| g.len() >= 3) {
                continue;
            }
            if groups.iter().filter(|g| !g.is_empty()).count() < 2 {
                continue;
            }
            let Ok(ip) = s.parse::<Ipv6Addr>() else {
                continue;
            };
            let canon = ip.to_canonical();
            if canon.is_loopback() || canon.is_unspecified() {
                continue;
            }
            push(&mut out, IndicatorKind::Ip, ip.to_string(), m.start());
        }
    }
    if memchr::memchr(b'@', bytes).is_some() {
        for m in EMAIL.find_iter(text) {
            let v = m.as_str();
            let (local, domain) = v.split_once('@').unwrap_or((v, ""));
            let tld = domain.rsplit('.').next().unwrap_or("");
            if !is_mail_tld(tld) || local == "git" || before(text, m.start()) == b'/' {
                continue;
            }
            push(
                &mut out,
                IndicatorKind::Email,
                v.to_ascii_lowercase(),
                m.start(),
            );
        }
    }
    // Bare domains only where they sit in a string of their own
    // (`'evil.com'`, `'.attacker.example.com'`), never member chains such
    // as `console.info` or file names such as `index.js`.
    for m in DOMAIN.find_iter(text) {
        // Drop the quote (and dot) in front and the closing character; both
        // are ASCII, so the slice stays on character boundaries.
        let whole = m.as_str();
        let lead = if whole.as_bytes().get(1) == Some(&b'.') {
            2
        } else {
            1
        };
        let Some(name) = whole.get(lead..whole.len() - 1) else {
            continue;
        };
        push(
            &mut out,
            IndicatorKind::Domain,
            name.to_ascii_lowercase(),
            m.start() + lead,
        );
    }
    for m in SERVICE_AC.find_iter(text) {
        let (s, e) = (m.start(), m.end());
        let b = before(text, s);
        if b.is_ascii_alphanumeric()
            || b == b'_'
            || (b == b'-' && !SERVICES[m.pattern().as_usize()].0.contains('/'))
        {
            continue;
        }
        let a = byte_at(text, e);
        let pat = SERVICES[m.pattern().as_usize()].0;
        if !pat.ends_with('/') && !pat.ends_with("bot") && (a.is_ascii_alphanumeric() || a == b'_')
        {
            continue;
        }
        let value = endpoint_token(text, s, e).to_ascii_lowercase();
        push(&mut out, IndicatorKind::Webhook, value, s);
    }
    out
}

/// The URL-ish token around a match.
fn endpoint_token(text: &str, s: usize, e: usize) -> &str {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"._~:/?#@!$&*+,;=%-".contains(&b);
    let bytes = text.as_bytes();
    let mut a = s;
    while a > 0 && s - a < 256 && ok(bytes[a - 1]) {
        a -= 1;
    }
    let mut z = e;
    while z < bytes.len() && z - e < 256 && ok(bytes[z]) {
        z += 1;
    }
    let t = text.get(a..z).unwrap_or("");
    t.trim_end_matches(['.', ',', ';', ':'])
}

fn service_of(value: &str) -> Option<Service> {
    SERVICE_AC
        .find(value)
        .map(|m| SERVICES[m.pattern().as_usize()].1)
}

/// `INTEL502`/`INTEL503` findings for the indicators of one file. Only code
/// files count: a README naming a webhook service documents it.
#[must_use]
pub fn findings(file: &SourceFile<'_>, found: &[Indicator]) -> Vec<Finding> {
    let unasked = file.role.runs_unasked();
    let mut out = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for ind in found {
        match ind.kind {
            IndicatorKind::Webhook => {
                if !seen.insert(&ind.value) || out.len() >= 10 {
                    continue;
                }
                let Some(service) = service_of(&ind.value) else {
                    continue;
                };
                let concrete = webhook_has_token(&ind.value);
                let (sev, conf, what) = match service {
                    Service::Webhook if concrete => (
                        Severity::Medium,
                        Confidence::High,
                        "a chat webhook with its token",
                    ),
                    Service::Webhook => {
                        (Severity::Low, Confidence::Medium, "a chat webhook address")
                    }
                    Service::Catcher => (
                        Severity::Medium,
                        Confidence::Medium,
                        "a request-bin, tunnel or out-of-band interaction host",
                    ),
                    Service::Paste => (
                        Severity::Low,
                        Confidence::Medium,
                        "a paste or anonymous file-drop site",
                    ),
                };
                let sev = if unasked { bump(sev) } else { sev };
                out.push(
                    Finding::new(
                        RuleCode::new("INTEL502"),
                        "exfil-endpoint",
                        sev,
                        conf,
                        format!("code refers to {what}, where stolen data is commonly sent"),
                    )
                    .at(file.path, ind.line, 0)
                    .excerpt(&ind.value)
                    .install_time(unasked),
                );
            }
            IndicatorKind::Url if unasked => {
                let Some(host) = url_host(&ind.value) else {
                    continue;
                };
                let Ok(IpAddr::V4(ip)) = host.parse::<IpAddr>() else {
                    continue;
                };
                if ip.is_private()
                    || ip.is_loopback()
                    || ip.is_link_local()
                    || ip.is_unspecified()
                    || !seen.insert(&ind.value)
                {
                    continue;
                }
                out.push(
                    Finding::new(
                        RuleCode::new("INTEL503"),
                        "raw-ip-url",
                        Severity::High,
                        Confidence::Medium,
                        "code that runs at install or import time talks to a raw IP address",
                    )
                    .at(file.path, ind.line, 0)
                    .excerpt(&ind.value)
                    .evidence(format!("host: {ip}"))
                    .install_time(true),
                );
            }
            _ => {}
        }
    }
    out
}

fn bump(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        _ => Severity::High,
    }
}

/// `…/api/webhooks/<id>/<token>`, `hooks.slack.com/services/T…/B…/…`,
/// `api.telegram.org/bot<id>:<token>`.
fn webhook_has_token(v: &str) -> bool {
    let after = |p: &str| v.find(p).map(|i| &v[i + p.len()..]);
    if let Some(r) = after("/api/webhooks/") {
        let mut it = r.split('/');
        return it
            .next()
            .is_some_and(|id| id.len() >= 15 && id.bytes().all(|b| b.is_ascii_digit()))
            && it.next().is_some_and(|t| t.len() >= 40);
    }
    if let Some(r) = after("hooks.slack.com/services/") {
        return r.split('/').filter(|p| p.len() >= 8).count() >= 3;
    }
    if let Some(r) = after("api.telegram.org/bot") {
        return r.split_once(':').is_some_and(|(id, t)| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && t.len() >= 30
        });
    }
    false
}

/// Remove repeated indicators (same kind, value, file, line).
pub fn dedup(indicators: &mut Vec<Indicator>) {
    indicators.sort_by(|a, b| {
        (a.kind, &a.value, &a.file, a.line).cmp(&(b.kind, &b.value, &b.file, b.line))
    });
    indicators.dedup();
}

/// Extra text files searched for indicators (besides Python and
/// JavaScript): manifests and shell scripts, where payload URLs also hide.
#[must_use]
pub fn is_text_candidate(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    name == "package.json"
        || [".sh", ".bash", ".bat", ".cmd", ".ps1", ".vbs", ".pyi"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Indicators supplied by the user, one per line in a text file.
#[derive(Clone, Debug, Default)]
pub struct IocSet {
    ips: HashMap<IpAddr, Entry>,
    cidrs: Vec<(IpAddr, u8, Entry)>,
    domains: HashMap<String, Entry>,
    urls: HashMap<String, Entry>,
    emails: HashMap<String, Entry>,
    digests: HashMap<Sha256, Entry>,
}

/// Where an indicator came from in the user's file.
#[derive(Clone, Debug)]
struct Entry {
    line: u32,
    text: String,
}

fn refang(s: &str) -> String {
    s.replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[:]", ":")
        .replace("hxxps://", "https://")
        .replace("hxxp://", "http://")
}

fn normalize_url(u: &str) -> Option<String> {
    let (scheme, rest) = u.split_once("://")?;
    let host = url_host(u)?;
    let rest = rest.replacen(host, &host.to_ascii_lowercase(), 1);
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest.trim_end_matches('/')
    ))
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, n) = s.split_once('/')?;
    let ip: IpAddr = a.parse().ok()?;
    let n: u8 = n.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (n <= max).then_some((ip, n))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

impl IocSet {
    /// Parse an indicator file.
    ///
    /// # Errors
    /// A line that is not a recognisable indicator, with its line number.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = IocSet::default();
        for (i, raw) in text.lines().enumerate() {
            let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
            // A comment starts at a `#` at the line start or after a space
            // (a `#` inside a URL is a fragment).
            let mut line = raw.trim();
            if line.starts_with('#') {
                continue;
            }
            if let Some(p) = line.find(" #").or_else(|| line.find("\t#")) {
                line = line[..p].trim();
            }
            if line.is_empty() {
                continue;
            }
            let v = refang(line);
            let entry = Entry {
                line: n,
                text: line.chars().take(200).collect(),
            };
            let lower = v.to_ascii_lowercase();
            if lower.contains("://") {
                let Some(u) = normalize_url(&v) else {
                    return Err(format!("line {n}: `{line}` is not a valid URL"));
                };
                set.urls.insert(u, entry);
            } else if let Some((ip, bits)) = parse_cidr(&lower) {
                set.cidrs.push((ip, bits, entry));
            } else if let Ok(ip) = lower.parse::<IpAddr>() {
                set.ips.insert(ip, entry);
            } else if let Ok(d) = lower.parse::<Sha256>() {
                set.digests.insert(d, entry);
            } else if lower.contains('@') {
                let ok = EMAIL
                    .find(&lower)
                    .is_some_and(|m| m.start() == 0 && m.end() == lower.len());
                if !ok {
                    return Err(format!("line {n}: `{line}` is not a valid e-mail address"));
                }
                set.emails.insert(lower, entry);
            } else {
                let d = lower
                    .trim_start_matches("*.")
                    .trim_start_matches('.')
                    .trim_end_matches('.');
                let tld = d.rsplit('.').next().unwrap_or("");
                // `index.js` is a file name, not a domain.
                if !valid_hostname(d) || d == "localhost" || !is_mail_tld(tld) {
                    return Err(format!(
                        "line {n}: `{line}` is not an IP address, CIDR range, domain, URL, e-mail address or sha256 digest"
                    ));
                }
                set.domains.insert(d.to_owned(), entry);
            }
        }
        Ok(set)
    }

    /// Number of indicators in the set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ips.len()
            + self.cidrs.len()
            + self.domains.len()
            + self.urls.len()
            + self.emails.len()
            + self.digests.len()
    }

    /// True when the set holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the set holds sha256 digests (worth hashing files for).
    #[must_use]
    pub fn has_digests(&self) -> bool {
        !self.digests.is_empty()
    }

    fn match_ip(&self, ip: IpAddr) -> Option<&Entry> {
        self.ips.get(&ip).or_else(|| {
            self.cidrs
                .iter()
                .find(|(net, bits, _)| in_cidr(ip, *net, *bits))
                .map(|(_, _, e)| e)
        })
    }

    fn match_domain(&self, host: &str) -> Option<&Entry> {
        let host = host.trim_end_matches('.');
        let mut h = host;
        loop {
            if let Some(e) = self.domains.get(h) {
                return Some(e);
            }
            match h.split_once('.') {
                Some((_, rest)) if rest.contains('.') || !rest.is_empty() => h = rest,
                _ => return None,
            }
        }
    }

    fn match_url(&self, url: &str) -> Option<&Entry> {
        let n = normalize_url(url)?;
        if let Some(e) = self.urls.get(&n) {
            return Some(e);
        }
        // A listed URL also matches longer URLs below it.
        let mut cut = n.as_str();
        while let Some(p) = cut.rfind(['/', '?', '#']) {
            cut = &cut[..p];
            if cut.ends_with(':') || cut.ends_with('/') {
                break;
            }
            if let Some(e) = self.urls.get(cut) {
                return Some(e);
            }
        }
        let host = url_host(&n)?;
        match host.parse::<IpAddr>() {
            Ok(ip) => self.match_ip(ip),
            Err(_) => self.match_domain(host),
        }
    }

    fn hit(ind: &Indicator, e: &Entry) -> Finding {
        Finding::new(
            RuleCode::new("INTEL501"),
            "ioc-match",
            Severity::High,
            Confidence::High,
            format!("`{}` matches a known indicator of compromise", ind.value),
        )
        .at(&ind.file, ind.line, 0)
        .excerpt(&ind.value)
        .evidence(format!("matches indicator file line {}", e.line))
        .evidence(format!("indicator: {}", e.text))
    }

    /// Findings for the indicators that match this set.
    #[must_use]
    pub fn matches(&self, found: &[Indicator]) -> Vec<Finding> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut seen: HashSet<(&str, u32, u32)> = HashSet::new();
        for ind in found {
            let e = match ind.kind {
                IndicatorKind::Ip => ind
                    .value
                    .parse::<IpAddr>()
                    .ok()
                    .and_then(|ip| self.match_ip(ip)),
                IndicatorKind::Url => self.match_url(&ind.value),
                IndicatorKind::Webhook => {
                    if ind.value.contains("://") {
                        self.match_url(&ind.value)
                    } else {
                        let host = ind.value.split(['/', '?', '#']).next().unwrap_or("");
                        self.match_domain(host)
                            .or_else(|| self.match_url(&format!("https://{}", ind.value)))
                    }
                }
                IndicatorKind::Domain => self.match_domain(&ind.value),
                IndicatorKind::Email => {
                    self.emails
                        .get(&ind.value.to_ascii_lowercase())
                        .or_else(|| {
                            ind.value
                                .rsplit_once('@')
                                .and_then(|(_, d)| self.match_domain(d))
                        })
                }
            };
            if let Some(e) = e
                && seen.insert((&ind.file, ind.line, e.line))
            {
                out.push(Self::hit(ind, e));
            }
        }
        out
    }

    /// A finding when an artifact's (or file's) digest is in the set.
    #[must_use]
    pub fn matches_digest(&self, digest: &Sha256) -> Vec<Finding> {
        self.digests
            .get(digest)
            .map(|e| {
                vec![
                    Finding::new(
                        RuleCode::new("INTEL501"),
                        "ioc-match",
                        Severity::High,
                        Confidence::High,
                        format!("sha256 {digest} matches a known indicator of compromise"),
                    )
                    .excerpt(&digest.to_hex())
                    .evidence(format!("matches indicator file line {}", e.line)),
                ]
            })
            .unwrap_or_default()
    }
}
