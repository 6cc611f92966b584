//! Hostile-but-inert packages are stopped at the sandbox's limits and the
//! report names the limit.

mod common;

use std::time::Duration;

use common::*;
use sluice_sandbox::{SandboxOptions, SandboxReport, run};

fn limits(r: &SandboxReport) -> Vec<String> {
    r.limits_hit.iter().map(|l| l.limit.clone()).collect()
}

fn run_inline(name: &str, body: &str, opts: SandboxOptions) -> SandboxReport {
    let dir = tempfile::tempdir().unwrap();
    let pkg = inline_sdist(dir.path(), name, body);
    let started = std::time::Instant::now();
    let r = run(&pkg, &opts).unwrap();
    eprintln!("{name}: {:?} in {:?}", limits(&r), started.elapsed());
    r
}

#[test]
fn a_hang_is_stopped_by_the_wall_clock() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        phase_timeout: Duration::from_secs(6),
        ..SandboxOptions::default()
    };
    let r = run_inline("hangs", "time.sleep(3600)", opts);
    assert!(
        limits(&r).contains(&"wall-clock".to_owned()),
        "{:?}",
        r.limits_hit
    );
    assert_eq!(r.phases[0].status, "limit");
    assert_eq!(r.phases[1].status, "skipped");
    assert!(r.findings.iter().any(|f| f.rule.as_str() == "DYN790"));
}

#[test]
fn a_fork_bomb_hits_the_process_limit() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        phase_timeout: Duration::from_secs(10),
        max_processes: 48,
        ..SandboxOptions::default()
    };
    let body = "for _ in range(100000):\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.05)\n";
    let r = run_inline("forks", body, opts);
    assert!(
        limits(&r).contains(&"processes".to_owned()),
        "{:?}",
        r.limits_hit
    );
}

#[test]
fn a_flood_of_output_is_cut() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        max_output_bytes: 4 << 20,
        ..SandboxOptions::default()
    };
    let body = "line = 'x' * 65536 + '\\n'\nwhile True:\n    sys.stdout.write(line)\n";
    let r = run_inline("floods", body, opts);
    // pip may capture setup.py's output itself (then pip runs out of memory
    // first); either way the run stops at a named limit.
    let l = limits(&r);
    assert!(
        l.contains(&"output".to_owned()) || l.contains(&"memory".to_owned()),
        "{:?}",
        r.limits_hit
    );
    assert!(r.phases[0].stdout_tail.len() <= 16 << 10);
}

#[test]
fn filling_the_disk_hits_the_disk_limit() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        disk_bytes: 96 << 20,
        ..SandboxOptions::default()
    };
    let body = "chunk = b'\\0' * (1 << 20)\ntry:\n    with open(os.path.expanduser('~/fill.bin'), 'wb') as f:\n        while True:\n            f.write(chunk)\nexcept OSError as e:\n    print('disk:', e)\n";
    let r = run_inline("fills", body, opts);
    assert!(
        limits(&r).contains(&"disk".to_owned()),
        "{:?}",
        r.limits_hit
    );
}

#[test]
fn a_memory_hog_hits_the_memory_limit() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        memory_bytes: 768 << 20,
        ..SandboxOptions::default()
    };
    let r = run_inline("hogs", "x = bytearray(2 << 30)", opts);
    assert!(
        limits(&r).contains(&"memory".to_owned()),
        "{:?}",
        r.limits_hit
    );
}

#[test]
fn flooding_the_sink_is_capped() {
    if !available() {
        return;
    }
    let opts = SandboxOptions {
        max_net_records: 20,
        ..SandboxOptions::default()
    };
    let body = "for i in range(60):\n    try:\n        s = socket.create_connection(('203.0.113.%d' % (i % 250 + 1), 80), timeout=2)\n        s.sendall(b'x' * 100)\n        s.close()\n    except OSError:\n        pass\n";
    let r = run_inline("sinkflood", body, opts);
    assert!(
        limits(&r).contains(&"network-flood".to_owned()),
        "{:?}",
        r.limits_hit
    );
    assert!(r.network.len() <= 20);
}

#[test]
fn killing_the_installer_ends_the_run_and_is_named() {
    if !available() {
        return;
    }
    // Anti-analysis: kill pip (the parent), then every process it can see.
    let body = "import signal\nos.kill(os.getppid(), signal.SIGKILL)\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        try:\n            os.kill(int(p), signal.SIGKILL)\n        except OSError:\n            pass\n";
    let r = run_inline("killer", body, SandboxOptions::default());
    assert_ne!(r.phases[0].status, "completed", "{:?}", r.phases);
    assert!(
        r.findings.iter().any(|f| f.rule.as_str() == "DYN715"
            && f.file.as_deref() == Some("setup.py")
            && f.message.contains("installer")),
        "{:#?}",
        r.findings
    );
}

#[test]
fn trashing_the_home_ends_the_run_and_is_named() {
    if !available() {
        return;
    }
    let body = "import shutil\nshutil.rmtree(os.path.expanduser('~'), ignore_errors=True)\nos.system('rm -rf ~/ /tmp/* 2>/dev/null')\n";
    let r = run_inline("trasher", body, SandboxOptions::default());
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule.as_str() == "DYN716" && f.file.as_deref() == Some("setup.py")),
        "{:#?}",
        r.findings
    );
}
