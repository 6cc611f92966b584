//! Indicator extraction: what counts as an IP, URL, domain, e-mail or
//! webhook, and what does not (versions, OIDs, member chains, file names).

use sluice_analyze::ioc::{self, Interest};
use sluice_analyze::{FileRole, SourceFile};
use sluice_model::{Indicator, IndicatorKind, Severity};

fn extract(text: &str) -> Vec<Indicator> {
    ioc::extract(&SourceFile {
        path: "f.js",
        text,
        role: FileRole::Library,
    })
}

fn values(text: &str, kind: IndicatorKind) -> Vec<String> {
    let mut v: Vec<String> = extract(text)
        .into_iter()
        .filter(|i| i.kind == kind)
        .map(|i| i.value)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn ipv4() {
    let t = "post('175.24.100.2', 8000); const a = '10.0.0.1'; x = \"192.0.2.5\";\n\
             version: '1.2.3.4'; v1.2.3.4; // 13.3.3.7 Runtime Semantics\n in section 24.5.1.1; step 12.1.1.4: oid = '1.3.6.1.4.1.311'; bind('0.0.0.0'); '127.0.0.1'; mask='255.255.255.255'";
    assert_eq!(
        values(t, IndicatorKind::Ip),
        vec!["10.0.0.1", "175.24.100.2", "192.0.2.5"]
    );
    let inds = extract(t);
    let interest = |v: &str| ioc::interest(inds.iter().find(|i| i.value == v).unwrap());
    assert_eq!(interest("175.24.100.2"), Interest::Normal);
    assert_eq!(interest("10.0.0.1"), Interest::Low);
    assert_eq!(interest("192.0.2.5"), Interest::Low);
}

#[test]
fn ipv6() {
    let t = "a = '2606:4700:4700::1111'; b = \"2001:db8::1\"; std::vector<int>; time 12:30:45; c = '::1'; d = a::b; e = 'fe80::1'";
    assert_eq!(
        values(t, IndicatorKind::Ip),
        vec!["2001:db8::1", "2606:4700:4700::1111", "fe80::1"]
    );
}

#[test]
fn urls_and_domains() {
    let t = "fetch('https://Evil.Example.com/x?y=1.');\nfetch(`http://${host}/x`); get('http://localhost:3000/a');\n\
             ws = 'wss://198.51.100.4:9/s'; console.info('x'); require('./index.js'); dns.resolve(x + '.attacker.top');\nconst c2 = 'c2-server.xyz';";
    assert_eq!(
        values(t, IndicatorKind::Url),
        vec!["https://evil.example.com/x?y=1", "wss://198.51.100.4:9/s"]
    );
    assert_eq!(
        values(t, IndicatorKind::Domain),
        vec!["attacker.top", "c2-server.xyz", "evil.example.com"]
    );
    let lines: Vec<u32> = extract(t)
        .iter()
        .filter(|i| i.kind == IndicatorKind::Url)
        .map(|i| i.line)
        .collect();
    assert_eq!(lines, vec![1, 3]);
}

#[test]
fn emails() {
    let t = "author: 'jackson <Jackson@Example.com>'; img = 'icon@2x.png'; git@github.com:foo/bar.git; import '@babel/core'; pkg@1.2.3";
    assert_eq!(values(t, IndicatorKind::Email), vec!["jackson@example.com"]);
}

#[test]
fn webhooks_and_findings() {
    let token = "a".repeat(68);
    let t = format!(
        "const h = 'https://discord.com/api/webhooks/123456789012345678/{token}';\n\
         const p = 'https://eo1x2y.m.pipedream.net/';\nconst q = 'myprofile.io and some_file.io';\nconst r = 'https://pastebin.com/raw/abc';"
    );
    let inds = extract(&t);
    let hooks: Vec<&str> = inds
        .iter()
        .filter(|i| i.kind == IndicatorKind::Webhook)
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(hooks.len(), 3, "{hooks:?}");
    assert!(hooks.iter().all(|h| !h.contains("file.io")));
    let lib = ioc::findings(
        &SourceFile {
            path: "f.js",
            text: &t,
            role: FileRole::Library,
        },
        &inds,
    );
    let sev = |fs: &[sluice_model::Finding], line: u32| {
        fs.iter().find(|f| f.line == Some(line)).map(|f| f.severity)
    };
    assert_eq!(sev(&lib, 1), Some(Severity::Medium));
    assert_eq!(sev(&lib, 2), Some(Severity::Medium));
    assert_eq!(sev(&lib, 4), Some(Severity::Low));
    assert!(lib.iter().all(|f| f.rule.as_str() == "INTEL502"));
    let inst = ioc::findings(
        &SourceFile {
            path: "f.js",
            text: &t,
            role: FileRole::Install,
        },
        &inds,
    );
    assert_eq!(sev(&inst, 1), Some(Severity::High));
    assert!(inst.iter().all(|f| f.install_time));
}

#[test]
fn raw_ip_urls_only_matter_where_code_runs_unasked() {
    let t = "get('http://175.24.100.2:8000/api/');\nget('http://192.168.1.4/');";
    let inds = extract(t);
    let lib = ioc::findings(
        &SourceFile {
            path: "f.js",
            text: t,
            role: FileRole::Library,
        },
        &inds,
    );
    assert!(lib.is_empty());
    let inst = ioc::findings(
        &SourceFile {
            path: "f.js",
            text: t,
            role: FileRole::Install,
        },
        &inds,
    );
    assert_eq!(inst.len(), 1, "{inst:?}");
    assert_eq!((inst[0].rule.as_str(), inst[0].line), ("INTEL503", Some(1)));
}

#[test]
fn bounded_and_linear_on_hostile_text() {
    let big = "1.2.3.4.".repeat(50_000)
        + &"a:".repeat(50_000)
        + &"x@y.".repeat(25_000)
        + &"https://a.b/".repeat(12_000);
    let v = extract(&big);
    assert!(v.len() <= ioc::MAX_PER_FILE);
    let _ = extract("\u{0}\u{fffd}::\u{7f}@@..//");
}
