//! The supervisor: prepares the sandbox folder, builds the isolation and
//! runs each phase under strace + bubblewrap, then hands the raw
//! observations to `analyze`.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::mount::{MsFlags, mount};
use nix::sys::resource::{Resource, setrlimit};
use sluice_model::Ecosystem;

use crate::canary::{Bait, Rng, make_bait};
use crate::hooks::{self, AppEvent, DRIVER_JS, DRIVER_PY, HOOK_JS, HOOK_PY};
use crate::machine::{Machine, USER_DIRS, WINDOWS_DIRS, WINDOWS_TOOLS};
use crate::sink::{NetRecord, Sink, SinkLimits};
use crate::strace::{self, SysKind, TRACE_SET, Trace};
use crate::{
    LimitHit, Phase, PhaseResult, SandboxError, SandboxOptions, SandboxReport, analyze, netns,
};

/// The external tools the sandbox needs, as found on this machine.
#[derive(Clone, Debug)]
pub struct Prerequisites {
    /// bubblewrap.
    pub bwrap: PathBuf,
    /// strace.
    pub strace: PathBuf,
    /// nft (nftables).
    pub nft: PathBuf,
    /// ip (iproute2).
    pub ip: PathBuf,
    /// setpriv (util-linux).
    pub setpriv: PathBuf,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for d in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Check that this machine can run the sandbox: root, and bubblewrap,
/// strace, nft, ip and setpriv installed.
///
/// # Errors
/// [`SandboxError::Unavailable`] naming what is missing.
pub fn check_prerequisites() -> Result<Prerequisites, SandboxError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(SandboxError::Unavailable(
            "must run as root (network namespace, nftables, tmpfs mounts)".into(),
        ));
    }
    let mut missing = Vec::new();
    let mut get = |n: &str, pkg: &str| {
        find_tool(n).unwrap_or_else(|| {
            missing.push(format!("{n} (Debian package {pkg})"));
            PathBuf::new()
        })
    };
    let p = Prerequisites {
        bwrap: get("bwrap", "bubblewrap"),
        strace: get("strace", "strace"),
        nft: get("nft", "nftables"),
        ip: get("ip", "iproute2"),
        setpriv: get("setpriv", "util-linux"),
    };
    if missing.is_empty() {
        Ok(p)
    } else {
        Err(SandboxError::Unavailable(format!(
            "missing {}",
            missing.join(", ")
        )))
    }
}

/// A Python interpreter as seen from the host.
#[derive(Clone, Debug)]
struct Python {
    exe: PathBuf,
    base_prefix: PathBuf,
    version: String,
    /// purelib first, then the interpreter's other site folders (Debian
    /// keeps pip and setuptools in /usr/lib/python3/dist-packages).
    site_dirs: Vec<PathBuf>,
}

fn probe_python(opt: Option<&Path>) -> Result<Python, SandboxError> {
    let exe = match opt {
        Some(p) => p.to_owned(),
        None => find_tool("python3")
            .ok_or_else(|| SandboxError::Unavailable("python3 not found".into()))?,
    };
    // -I -S: no site, no user dirs, no .pth files of the host run here.
    let out = Command::new(&exe)
        .args([
            "-I",
            "-S",
            "-c",
            "import sys,sysconfig,site;print(sys.executable);print(sys.base_prefix);print('%d.%d.%d'%sys.version_info[:3]);print(sysconfig.get_paths()['purelib']);[print(p) for p in site.getsitepackages()]",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SandboxError::Unavailable(format!("cannot run {}: {e}", exe.display())))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let l: Vec<&str> = text.lines().collect();
    let [exe, base, version, sites @ ..] = l.as_slice() else {
        return Err(SandboxError::Unavailable(format!(
            "{} did not describe itself",
            exe.display()
        )));
    };
    Ok(Python {
        exe: std::fs::canonicalize(exe)?,
        base_prefix: PathBuf::from(base),
        version: (*version).to_owned(),
        site_dirs: sites.iter().map(PathBuf::from).collect(),
    })
}

#[derive(Clone, Debug)]
struct Node {
    node: PathBuf,
    /// `(program, leading args)` to run npm.
    npm: (PathBuf, Vec<String>),
    dirs: Vec<PathBuf>,
}

fn probe_node(opts: &SandboxOptions) -> Result<Node, SandboxError> {
    let node = match &opts.node {
        Some(p) => p.clone(),
        None => {
            find_tool("node").ok_or_else(|| SandboxError::Unavailable("node not found".into()))?
        }
    };
    let node = std::fs::canonicalize(node)?;
    let npm = match &opts.npm {
        Some(p) => p.clone(),
        None => {
            find_tool("npm").ok_or_else(|| SandboxError::Unavailable("npm not found".into()))?
        }
    };
    let npm = std::fs::canonicalize(npm)?;
    let mut dirs = vec![node.parent().map(Path::to_path_buf).unwrap_or_default()];
    let npm_cmd = if npm.extension().is_some_and(|e| e == "js") {
        // npm-cli.js lives in <npm root>/bin/
        if let Some(root) = npm.parent().and_then(Path::parent) {
            dirs.push(root.to_owned());
        }
        (node.clone(), vec![npm.to_string_lossy().into_owned()])
    } else {
        dirs.push(npm.parent().map(Path::to_path_buf).unwrap_or_default());
        (npm, Vec::new())
    };
    Ok(Node {
        node,
        npm: npm_cmd,
        dirs,
    })
}

/// Host folders the sandbox hides behind empty tmpfs mounts.
/// The `.pth` file that loads the Python hook (and adds the profile).
pub(crate) const HOOK_PTH: &str = "_virtualenv.pth";
/// The Python hook's module file.
pub(crate) const HOOK_MODULE: &str = "_virtualenv.py";

const HIDDEN: &[&str] = &[
    "/root", "/home", "/tmp", "/var/tmp", "/run", "/work", "/mnt", "/media", "/srv",
];

/// Raw observations of one run, before analysis.
pub(crate) struct Raw {
    pub target: String,
    pub ecosystem: Ecosystem,
    pub phases: Vec<(PhaseResult, f64, f64)>,
    pub limits: Vec<LimitHit>,
    pub net: Vec<NetRecord>,
    pub traces: Vec<(Phase, Trace)>,
    pub app: Vec<AppEvent>,
    pub bait: Bait,
    pub home: String,
    /// Start-up hooks left in site-packages: `(file name, contents)`.
    pub startup_hooks: Vec<(String, String)>,
    /// Sandbox files the package changed or removed (the runtime hook).
    pub tampered: Vec<(Phase, String)>,
    /// Files the package started (`os.startfile`, a spawn naming a file in
    /// the home) that hold what the fake network served: `(index of the
    /// runtime record in `app`, path inside)`.
    pub started_served: Vec<(usize, String)>,
    /// What every body the fake network served carried this run.
    pub marker: String,
    /// Dependencies taken out of an npm package's manifest so that it
    /// installs offline.
    pub npm_dropped: Vec<String>,
}

struct Ctx {
    pre: Prerequisites,
    opts: SandboxOptions,
    uid: u32,
    work: PathBuf,
    home: String,
    run_dir: String,
    bait: Bait,
    env: Vec<(String, String)>,
    binds: Vec<(PathBuf, PathBuf)>,
    /// Read-only binds applied after the home and `/proc` are in place
    /// (the dependency profile in the home, machine facts over `/proc`).
    late_binds: Vec<(PathBuf, String)>,
    /// See [`Raw::npm_dropped`].
    npm_dropped: Vec<String>,
}

pub(crate) fn run(input: &Path, opts: &SandboxOptions) -> Result<SandboxReport, SandboxError> {
    let pre = check_prerequisites()?;
    let ecosystem = match opts.ecosystem {
        Some(e) => e,
        None => crate::detect_ecosystem(input)?,
    };
    let input = std::fs::canonicalize(input)?;
    let meta = std::fs::symlink_metadata(&input)?;
    if !meta.is_dir() && !meta.is_file() {
        return Err(SandboxError::Input {
            path: input,
            reason: "not a regular file or folder".into(),
        });
    }
    let python = match ecosystem {
        Ecosystem::PyPI => Some(probe_python(opts.python.as_deref())?),
        Ecosystem::Npm => None,
    };
    let node = match ecosystem {
        Ecosystem::Npm => Some(probe_node(opts)?),
        Ecosystem::PyPI => None,
    };
    let root = opts.work_root.clone().unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("sluice-sandbox-")
        .tempdir_in(&root)?;
    // The unprivileged sandbox uid must traverse the folder to reach its
    // mounts; the contents live on tmpfs mounts only this run can see.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let work = dir.path().to_owned();
    let opts2 = opts.clone();
    let target = input.display().to_string();
    let handle = std::thread::Builder::new()
        .name("sluice-sandbox".into())
        .spawn(move || supervise(pre, opts2, work, &input, ecosystem, python, node))
        .map_err(SandboxError::Io)?;
    let raw = handle
        .join()
        .map_err(|_| SandboxError::Setup("sandbox supervisor thread panicked".into()))??;
    drop(dir);
    let mut report = analyze::analyze(raw);
    report.target = target;
    Ok(report)
}

fn mount_tmpfs(at: &Path, size: u64, mode: u32, uid: Option<u32>) -> Result<(), SandboxError> {
    std::fs::create_dir_all(at)?;
    let mut data = format!("size={size},mode={mode:o}");
    if let Some(u) = uid {
        data.push_str(&format!(",uid={u},gid={u}"));
    }
    mount(
        Some("tmpfs"),
        at,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(data.as_str()),
    )
    .map_err(|e| SandboxError::Setup(format!("mount tmpfs at {}: {e}", at.display())))
}

fn chown_tree(p: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid))?;
    let meta = std::fs::symlink_metadata(p)?;
    if meta.is_dir() {
        for e in std::fs::read_dir(p)? {
            chown_tree(&e?.path(), uid)?;
        }
    }
    Ok(())
}

/// The copy of a resource that goes inside: without its header comment or
/// docstring (which names this tool), so a package that reads the files of
/// its own interpreter finds an ordinary helper.
fn disguise(src: &str) -> String {
    let mut rest = src;
    let mut head = String::new();
    if let Some(r) = rest.strip_prefix("'use strict';\n") {
        head.push_str("'use strict';\n");
        rest = r;
    }
    if let Some(r) = rest.strip_prefix("\"\"\"") {
        if let Some(end) = r.find("\"\"\"") {
            rest = r[end + 3..].trim_start_matches('\n');
        }
    } else {
        while rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        }
    }
    head + rest
}

fn write(p: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(p, text)
}

/// Whether an unprivileged user can reach `p` (every ancestor o+x).
fn world_reachable(p: &Path) -> bool {
    p.ancestors().all(|a| {
        a.as_os_str().is_empty()
            || std::fs::metadata(a)
                .map(|m| m.permissions().mode() & 0o001 != 0)
                .unwrap_or(false)
    })
}

fn copy_tree(from: &Path, to: &Path, budget: &mut u64) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        // Keep symlinks as links; they resolve inside the sandbox, where the
        // host is read-only anyway.
        let target = std::fs::read_link(from)?;
        std::os::unix::fs::symlink(target, to)?;
    } else if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()), budget)?;
        }
    } else if meta.is_file() {
        if meta.len() > *budget {
            return Err(std::io::Error::other("input larger than the sandbox disk"));
        }
        *budget -= meta.len();
        std::fs::copy(from, to)?;
    }
    Ok(())
}

#[allow(clippy::too_many_lines)]
fn supervise(
    pre: Prerequisites,
    opts: SandboxOptions,
    work: PathBuf,
    input: &Path,
    ecosystem: Ecosystem,
    python: Option<Python>,
    node: Option<Node>,
) -> Result<Raw, SandboxError> {
    // 1. Private mount namespace for this thread: the tmpfs mounts below
    //    exist only for this run and vanish with it.
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| SandboxError::Setup(format!("unshare(CLONE_NEWNS): {e}")))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| SandboxError::Setup(format!("make / private: {e}")))?;
    let mut rng = Rng::new();
    let uid = 1_100_000 + u32::try_from(rng.below(800_000)).unwrap_or(0);
    let box_dir = work.join("box");
    let ev_dir = work.join("ev");
    let meta_dir = work.join("meta");
    mount_tmpfs(&box_dir, opts.disk_bytes, 0o755, Some(uid))?;
    mount_tmpfs(&ev_dir, 64 << 20, 0o755, Some(uid))?;
    mount_tmpfs(&meta_dir, 512 << 20, 0o755, None)?;
    std::fs::create_dir_all(meta_dir.join("trace"))?;
    std::fs::set_permissions(
        meta_dir.join("trace"),
        std::fs::Permissions::from_mode(0o700),
    )?;

    // 2. The network: only lo, everything redirected to the sink.
    netns::enter(&pre.ip, &pre.nft)?;

    // 3. The fake home with its bait.
    let bait = make_bait(&mut rng);
    let home = format!("/home/{}", bait.user);
    let run_dir = format!(
        "/run/user/1000/.cache/{}",
        rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 10)
    );
    let host_home = box_dir.join("home");
    for (rel, text) in &bait.files {
        write(&host_home.join(rel), text)?;
    }
    crate::canary::write_binary_decoys(&host_home, &bait)?;
    let host_cpus =
        std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1));
    let machine = Machine::new(&mut rng, host_cpus);
    for (dir, files) in USER_DIRS {
        std::fs::create_dir_all(host_home.join(dir))?;
        for f in *files {
            const LINES: &[&str] = &[
                "- review the billing service PR",
                "- renew the staging certificate",
                "- ask about the on-call rota",
                "- update the deploy checklist",
                "- book travel for the offsite",
                "- clean up old feature flags",
                "- pair on the flaky integration test",
            ];
            let body = if f.ends_with(".keep") {
                String::new()
            } else {
                (0..3)
                    .map(|_| LINES[rng.below(LINES.len() as u64) as usize])
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\n"
            };
            write(&host_home.join(dir).join(f), &body)?;
        }
    }
    if opts.windows_persona {
        for d in WINDOWS_DIRS {
            std::fs::create_dir_all(host_home.join(d))?;
        }
    }
    std::fs::set_permissions(
        host_home.join(".ssh/id_rsa"),
        std::fs::Permissions::from_mode(0o600),
    )?;
    write(&host_home.join("project/README.md"), "# project\n")?;
    write(
        &host_home.join("project/package.json"),
        "{\n  \"name\": \"project\",\n  \"version\": \"1.0.0\",\n  \"private\": true\n}\n",
    )?;
    let file_name = input
        .file_name()
        .map_or_else(|| "input".into(), |n| n.to_string_lossy().into_owned());
    let staged = host_home.join("Downloads").join(&file_name);
    std::fs::create_dir_all(host_home.join("Downloads"))?;
    let mut budget = opts.disk_bytes / 2;
    // An npm package with dependencies cannot be installed offline: npm
    // stops resolving them before any lifecycle script runs. Such a
    // tarball goes in unpacked, without its dependency lists (what it then
    // fails to require is seen at run time).
    let npm_unpacked = if ecosystem == Ecosystem::Npm && !meta_is_dir(input) {
        npm_without_dependencies(input, opts.disk_bytes / 2)?
    } else {
        None
    };
    let (staged_name, staged_dir, npm_dropped) = if let Some((files, dropped)) = npm_unpacked {
        let stem = file_name
            .trim_end_matches(".tgz")
            .trim_end_matches(".tar.gz")
            .to_owned();
        let root = host_home.join("Downloads").join(&stem);
        for (rel, data, exec) in files {
            let p = root.join(&rel);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&p, data)?;
            if exec {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        (stem, true, dropped)
    } else {
        copy_tree(input, &staged, &mut budget).map_err(|e| SandboxError::Input {
            path: input.to_owned(),
            reason: e.to_string(),
        })?;
        (file_name.clone(), meta_is_dir(input), Vec::new())
    };
    let inside_input = format!("{home}/Downloads/{staged_name}");

    // 4. Resources: hooks with the event path baked in, drivers.
    let res = meta_dir.join("res");
    let events_inside = format!("{run_dir}/ev/events.jsonl");
    let res_inside = format!("{run_dir}/res");
    let guard = format!("__{}", rng.string(b"abcdefghijklmnopqrstuvwxyz", 10));
    let bake = |s: &str| {
        disguise(s)
            .replace("@@EVENTS@@", &events_inside)
            .replace("@@RESDIR@@", &res_inside)
            .replace("@@GUARD@@", &guard)
    };
    write(&res.join("hook.js"), &bake(HOOK_JS))?;
    write(&res.join("driver.py"), &disguise(DRIVER_PY))?;
    write(&res.join("driver.js"), &disguise(DRIVER_JS))?;
    write(&ev_dir.join("events.jsonl"), "")?;
    write(
        &meta_dir.join("etc/resolv.conf"),
        "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
    )?;
    write(
        &meta_dir.join("etc/hostname"),
        &format!("{}\n", bait.hostname),
    )?;
    // The machine: a login record, CPUs and uptime of a used laptop.
    // pid 1 of the sandbox: `who` shows only logins whose process lives.
    let login_pid = 1;
    std::fs::write(
        meta_dir.join("etc/utmp"),
        machine.utmp(&bait.user, login_pid),
    )?;
    write(
        &meta_dir.join("proc/cpuinfo"),
        &machine.cpuinfo(&std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()),
    )?;
    write(&meta_dir.join("proc/uptime"), &machine.uptime())?;
    write(&meta_dir.join("proc/cpu_range"), &machine.cpu_range())?;
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let mut pw: String = passwd
        .lines()
        .filter(|l| l.split(':').nth(2) != Some("1000"))
        .map(|l| format!("{l}\n"))
        .collect();
    pw.push_str(&format!("{}:x:1000:1000::{home}:/bin/bash\n", bait.user));
    write(&meta_dir.join("etc/passwd"), &pw)?;
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let mut gr: String = group
        .lines()
        .filter(|l| l.split(':').nth(2) != Some("1000"))
        .map(|l| format!("{l}\n"))
        .collect();
    gr.push_str(&format!("{}:x:1000:\n", bait.user));
    write(&meta_dir.join("etc/group"), &gr)?;

    // 5. Interpreter folders that live under hidden or private folders are
    //    bind-mounted (read-only inside) so the sandbox can reach them.
    let mut needed: Vec<PathBuf> = Vec::new();
    let mut late_binds: Vec<(PathBuf, String)> = Vec::new();
    let mut path_dirs = vec![
        format!("{home}/.venv/bin"),
        "/usr/local/bin".into(),
        "/usr/bin".into(),
        "/bin".into(),
    ];
    if opts.windows_persona {
        // Windows programs a payload starts (`start x.exe`, `powershell
        // -w hidden …`, `reg add …`) exist and succeed, so the payload goes
        // on; each start is seen by both views with its command line.
        let bin = host_home.join(".local/bin");
        std::fs::create_dir_all(&bin)?;
        for tool in WINDOWS_TOOLS {
            let p = bin.join(tool);
            write(&p, "#!/bin/sh\nexit 0\n")?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        }
        path_dirs.push(format!("{home}/.local/bin"));
    }
    let mut venv_site = String::new();
    if let Some(py) = &python {
        needed.push(py.base_prefix.clone());
        let exe_dir = py.exe.parent().map(Path::to_path_buf).unwrap_or_default();
        if !exe_dir.starts_with(&py.base_prefix) {
            needed.push(exe_dir.clone());
        }
        let short = py
            .version
            .rsplit_once('.')
            .map(|(a, _)| a)
            .unwrap_or(&py.version)
            .to_owned();
        let venv = host_home.join(".venv");
        let site = venv.join(format!("lib/python{short}/site-packages"));
        std::fs::create_dir_all(&site)?;
        std::fs::create_dir_all(venv.join("bin"))?;
        std::os::unix::fs::symlink(&py.exe, venv.join("bin/python"))?;
        std::os::unix::fs::symlink("python", venv.join("bin/python3"))?;
        std::os::unix::fs::symlink("python", venv.join(format!("bin/python{short}")))?;
        write(
            &venv.join("pyvenv.cfg"),
            &format!(
                "home = {}\ninclude-system-site-packages = false\nversion = {}\n",
                exe_dir.display(),
                py.version
            ),
        )?;
        // Named as virtualenv names its own site hook: an ordinary file
        // in an ordinary venv.
        let deps_inside = format!("{home}/.local/lib/python{short}/site-packages");
        let mut pth = String::new();
        if let Some(profile) = &opts.python_profile {
            let at = meta_dir.join("bind/profile");
            std::fs::create_dir_all(&at)?;
            std::fs::create_dir_all(
                host_home.join(deps_inside.trim_start_matches(&format!("{home}/"))),
            )?;
            mount(
                Some(profile.as_path()),
                &at,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(|e| SandboxError::Setup(format!("bind {}: {e}", profile.display())))?;
            late_binds.push((at, deps_inside.clone()));
            pth.push_str(&deps_inside);
            pth.push('\n');
        }
        pth.push_str("import _virtualenv\n");
        write(&site.join(HOOK_PTH), &pth)?;
        write(
            &site.join(HOOK_MODULE),
            &bake(HOOK_PY)
                .replace(
                    "@@DEPS@@",
                    if opts.python_profile.is_some() {
                        &deps_inside
                    } else {
                        ""
                    },
                )
                .replace("@@WINDOWS@@", if opts.windows_persona { "1" } else { "0" }),
        )?;
        // Build tooling comes from the host interpreter, linked in, so the
        // offline install can build an sdist without an index.
        for dir in &py.site_dirs {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut used = false;
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                let tooling = matches!(
                    n.as_str(),
                    "pip"
                        | "setuptools"
                        | "pkg_resources"
                        | "_distutils_hack"
                        | "wheel"
                        | "distutils-precedence.pth"
                ) || ((n.ends_with(".dist-info") || n.ends_with(".egg-info"))
                    && ["pip-", "setuptools-", "wheel-"]
                        .iter()
                        .any(|p| n.starts_with(p)));
                if tooling && std::fs::symlink_metadata(site.join(&n)).is_err() {
                    std::os::unix::fs::symlink(e.path(), site.join(&n))?;
                    used = true;
                }
            }
            if used && !dir.starts_with(&py.base_prefix) {
                needed.push(dir.clone());
            }
        }
        venv_site = format!("{home}/.venv/lib/python{short}/site-packages");
    }
    if let Some(n) = &node {
        for d in &n.dirs {
            needed.push(d.clone());
        }
        if let Some(d) = n.node.parent() {
            path_dirs.insert(1, d.display().to_string());
        }
    }
    let mut binds = Vec::new();
    for (i, d) in needed.iter().enumerate() {
        let hidden = HIDDEN.iter().any(|h| d.starts_with(h));
        if !hidden && world_reachable(d) {
            continue;
        }
        let at = meta_dir.join(format!("bind/{i}"));
        std::fs::create_dir_all(&at)?;
        mount(
            Some(d.as_path()),
            &at,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| SandboxError::Setup(format!("bind {}: {e}", d.display())))?;
        binds.push((at, d.clone()));
    }
    chown_tree(&box_dir, uid)?;
    chown_tree(&ev_dir, uid)?;

    let mut env: Vec<(String, String)> = vec![
        ("HOME".into(), home.clone()),
        ("USER".into(), bait.user.clone()),
        ("LOGNAME".into(), bait.user.clone()),
        ("PATH".into(), path_dirs.join(":")),
        ("TERM".into(), "xterm-256color".into()),
        ("SHELL".into(), "/bin/bash".into()),
        // Under the Windows persona the temporary folder is inside the
        // profile as on Windows (%TEMP%), so a payload that moves what it
        // built into ~/Documents renames within one file system instead of
        // failing with EXDEV.
        (
            "TMPDIR".into(),
            if opts.windows_persona {
                format!("{home}/AppData/Local/Temp")
            } else {
                "/tmp".into()
            },
        ),
        ("XDG_RUNTIME_DIR".into(), "/run/user/1000".into()),
        (
            "NODE_OPTIONS".into(),
            format!("--require {res_inside}/hook.js"),
        ),
        ("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into()),
    ];
    env.extend(crate::machine::session_env(
        &mut rng,
        &bait.user,
        &home,
        opts.ci_runner,
        opts.windows_persona,
    ));
    env.extend(bait.env.iter().cloned());
    late_binds.push((meta_dir.join("etc/utmp"), "/run/utmp".into()));
    if std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|t| t.contains("processor")) {
        late_binds.push((meta_dir.join("proc/cpuinfo"), "/proc/cpuinfo".into()));
    }
    late_binds.push((meta_dir.join("proc/uptime"), "/proc/uptime".into()));
    for f in ["online", "possible", "present"] {
        let at = format!("/sys/devices/system/cpu/{f}");
        if Path::new(&at).is_file() {
            late_binds.push((meta_dir.join("proc/cpu_range"), at));
        }
    }

    let ctx = Ctx {
        pre,
        opts,
        uid,
        work: work.clone(),
        home: home.clone(),
        run_dir,
        bait,
        env,
        binds,
        late_binds,
        npm_dropped,
    };

    // 6. The fake world, then the phases.
    let marker = crate::sink::payload_marker(&mut rng);
    let sink = Sink::start(
        SinkLimits {
            max_records: ctx.opts.max_net_records,
            max_bytes_per_flow: ctx.opts.max_flow_bytes,
            max_total_bytes: 32 << 20,
        },
        marker.clone(),
    )?;
    let project = format!("{home}/project");
    let mut plan: Vec<(Phase, Vec<String>)> = Vec::new();
    match ecosystem {
        Ecosystem::PyPI => {
            let py = format!("{home}/.venv/bin/python");
            plan.push((
                Phase::Install,
                vec![
                    py.clone(),
                    format!("{res_inside}/driver.py"),
                    "install".into(),
                    inside_input.clone(),
                ],
            ));
            plan.push((
                Phase::Import,
                vec![
                    py.clone(),
                    format!("{res_inside}/driver.py"),
                    "import-all".into(),
                    venv_site.clone(),
                ],
            ));
            if ctx.opts.execute {
                plan.push((
                    Phase::Execute,
                    vec![
                        py,
                        format!("{res_inside}/driver.py"),
                        "execute".into(),
                        venv_site.clone(),
                    ],
                ));
            }
        }
        Ecosystem::Npm => {
            let n = node
                .as_ref()
                .ok_or_else(|| SandboxError::Setup("node missing".into()))?;
            let mut install = vec![n.npm.0.display().to_string()];
            install.extend(n.npm.1.iter().cloned());
            install.extend(
                [
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-update-notifier",
                    "--offline",
                    "--dangerously-allow-all-scripts",
                    "--foreground-scripts",
                ]
                .map(String::from),
            );
            // A registry on loopback: npm's own metadata requests fail fast
            // instead of filling the sink with tooling noise.
            install.push("--registry=http://127.0.0.1:9/".into());
            install.push(format!("--cache={home}/.npm"));
            if staged_dir {
                install.push("--install-links".into());
            }
            install.push(inside_input.clone());
            plan.push((Phase::Install, install));
            let node_bin = n.node.display().to_string();
            plan.push((
                Phase::Import,
                vec![
                    node_bin.clone(),
                    format!("{res_inside}/driver.js"),
                    "import".into(),
                ],
            ));
            if ctx.opts.execute {
                plan.push((
                    Phase::Execute,
                    vec![
                        node_bin,
                        format!("{res_inside}/driver.js"),
                        "execute".into(),
                    ],
                ));
            }
        }
    }
    let mut phases = Vec::new();
    let mut limits = Vec::new();
    let mut traces = Vec::new();
    let mut go_on = true;
    // The hook lives in the package-writable venv: note it, to see whether
    // a phase removed or rewrote it (an evasion, and why later phases may
    // lack runtime records).
    let watched: Vec<(String, PathBuf, Vec<u8>)> = if venv_site.is_empty() {
        Vec::new()
    } else {
        let host_site = host_home.join(venv_site.trim_start_matches(&format!("{home}/")));
        [HOOK_PTH, HOOK_MODULE]
            .iter()
            .map(|n| {
                let p = host_site.join(n);
                let bytes = std::fs::read(&p).unwrap_or_default();
                ((*n).to_owned(), p, bytes)
            })
            .collect()
    };
    let mut tampered = Vec::new();
    for (phase, argv) in plan {
        if !go_on {
            phases.push((
                PhaseResult {
                    phase,
                    status: "skipped".into(),
                    exit_code: None,
                    duration_ms: 0,
                    stdout_tail: String::new(),
                    stderr_tail: String::new(),
                },
                0.0,
                0.0,
            ));
            continue;
        }
        let (res, t0, t1, trace, mut hit) = run_phase(&ctx, phase, &argv, &project, &box_dir)?;
        go_on = res.status == "completed";
        for (name, path, before) in &watched {
            let now = std::fs::read(path).unwrap_or_default();
            if &now != before && !tampered.iter().any(|(_, n)| n == name) {
                tampered.push((phase, name.clone()));
            }
        }
        limits.append(&mut hit);
        phases.push((res, t0, t1));
        traces.push((phase, trace));
    }
    // Give sink connection threads a moment to record late flows.
    std::thread::sleep(Duration::from_millis(200));
    let log = sink.stop();
    if log.flooded {
        let phase = phases.last().map_or(Phase::Install, |p| p.0.phase);
        limits.push(LimitHit {
            phase,
            limit: "network-flood".into(),
            detail: format!("sink stopped recording after {} records", log.records.len()),
        });
    }
    // Files that make every later Python start run code: a .pth with an
    // `import` line, sitecustomize/usercustomize. pip writes them, so
    // neither view blames the package; the file system does.
    let mut startup_hooks = Vec::new();
    if !venv_site.is_empty() {
        let host_site = host_home.join(venv_site.trim_start_matches(&format!("{home}/")));
        if let Ok(rd) = std::fs::read_dir(&host_site) {
            for e in rd.flatten().take(10_000) {
                let name = e.file_name().to_string_lossy().into_owned();
                let hook = name.ends_with(".pth")
                    || name == "sitecustomize.py"
                    || name == "usercustomize.py";
                if !hook || name == HOOK_PTH || e.file_type().is_ok_and(|t| t.is_symlink()) {
                    continue;
                }
                let text = read_bounded(&e.path(), 64 << 10);
                let runs_code = !name.ends_with(".pth")
                    || text
                        .lines()
                        .any(|l| l.starts_with("import ") || l.starts_with("import\t"));
                if runs_code {
                    startup_hooks.push((name, text));
                }
            }
        }
    }
    let events_text = read_bounded(&ev_dir.join("events.jsonl"), 32 << 20);
    let app = hooks::parse(&events_text);
    let started_served = started_served(&app, &ctx.home, &host_home, &marker);
    if let Some(keep) = &ctx.opts.keep {
        // Debugging aid, on explicit request only.
        std::fs::create_dir_all(keep)?;
        std::fs::write(keep.join("events.jsonl"), &events_text)?;
        for (phase, _) in &traces {
            let name = format!("{}.txt", phase.as_str());
            let _ = std::fs::copy(
                meta_dir.join("trace").join(&name),
                keep.join(format!("strace-{name}")),
            );
        }
    }
    Ok(Raw {
        target: input.display().to_string(),
        ecosystem,
        phases,
        limits,
        net: log.records,
        traces,
        app,
        bait: ctx.bait,
        home: ctx.home,
        startup_hooks,
        tampered,
        started_served,
        marker,
        npm_dropped: ctx.npm_dropped.clone(),
    })
}

/// Files in the home that package code started and that hold the sink's
/// marker: a download the package ran (`os.startfile(path)`,
/// `subprocess.Popen([path])`, `start path`). Read after the run from the
/// sandbox's own file system, bounded.
fn started_served(
    app: &[AppEvent],
    home: &str,
    host_home: &Path,
    marker: &str,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let prefix = format!("{home}/");
    for (i, e) in app.iter().enumerate() {
        let starts = (e.api == "venv.win" && e.args.first().is_some_and(|a| a == "os.startfile"))
            || analyze::is_spawn(&e.api);
        if !starts || e.culprit.is_none() {
            continue;
        }
        for arg in &e.args {
            for tok in arg.split(|c: char| c.is_whitespace() || "'\",[]()".contains(c)) {
                let Some(rel) = tok.strip_prefix(&prefix) else {
                    continue;
                };
                if rel.split('/').any(|c| c == ".." || c.is_empty()) {
                    continue;
                }
                let p = host_home.join(rel);
                let Ok(meta) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                if meta.is_file()
                    && read_bounded(&p, 64 << 10).contains(marker)
                    && !out
                        .iter()
                        .any(|(j, q): &(usize, String)| *j == i && q == tok)
                {
                    out.push((i, tok.to_owned()));
                }
            }
        }
    }
    out
}

/// Files of an npm tarball (the `package/` folder stripped) with
/// `dependencies`, `optionalDependencies` and `peerDependencies` taken out
/// of its `package.json` (bundled ones kept), and the names taken out;
/// `None` when it declares none (it is then installed as it came).
#[allow(clippy::type_complexity)]
fn npm_without_dependencies(
    input: &Path,
    max_bytes: u64,
) -> Result<Option<(Vec<(String, Vec<u8>, bool)>, Vec<String>)>, SandboxError> {
    let bad = |reason: String| SandboxError::Input {
        path: input.to_owned(),
        reason,
    };
    let limits = sluice_archive::Limits {
        max_total_bytes: max_bytes,
        ..sluice_archive::Limits::default()
    };
    let tree = sluice_archive::read_path(input, &limits).map_err(|e| bad(e.to_string()))?;
    let top = |p: &str| p.split_once('/').map(|(t, r)| (t.to_owned(), r.to_owned()));
    let Some(manifest) = tree
        .files
        .iter()
        .filter(|f| top(&f.path).is_some_and(|(_, r)| r == "package.json"))
        .min_by_key(|f| f.path.len())
    else {
        return Ok(None);
    };
    let Some((root, _)) = top(&manifest.path) else {
        return Ok(None);
    };
    let Ok(mut pkg) = serde_json::from_slice::<serde_json::Value>(&manifest.data) else {
        return Ok(None);
    };
    let bundled: Vec<String> = ["bundleDependencies", "bundledDependencies"]
        .iter()
        .filter_map(|k| pkg.get(*k)?.as_array().cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut dropped = Vec::new();
    if let Some(obj) = pkg.as_object_mut() {
        for key in ["dependencies", "optionalDependencies", "peerDependencies"] {
            if let Some(serde_json::Value::Object(deps)) = obj.get_mut(key) {
                let names: Vec<String> = deps
                    .keys()
                    .filter(|n| !bundled.contains(n))
                    .cloned()
                    .collect();
                for n in names {
                    deps.remove(&n);
                    dropped.push(n);
                }
            }
        }
    }
    if dropped.is_empty() {
        return Ok(None);
    }
    let mut rewritten = Some(serde_json::to_vec_pretty(&pkg).map_err(|e| bad(e.to_string()))?);
    let manifest_path = manifest.path.clone();
    let prefix = format!("{root}/");
    let files = tree
        .files
        .into_iter()
        .filter_map(|f| {
            let rel = f.path.strip_prefix(&prefix)?.to_owned();
            let exec = f.mode.is_some_and(|m| m & 0o111 != 0);
            let data = if f.path == manifest_path {
                rewritten.take().unwrap_or_default()
            } else {
                f.data
            };
            Some((rel, data, exec))
        })
        .collect();
    Ok(Some((files, dropped)))
}

fn meta_is_dir(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_dir()).unwrap_or(false)
}

fn read_bounded(p: &Path, max: u64) -> String {
    let Ok(f) = std::fs::File::open(p) else {
        return String::new();
    };
    let mut buf = Vec::new();
    let _ = f.take(max).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Keeps the last `keep` bytes of a stream and counts all of it.
fn drain(
    mut r: impl Read + Send + 'static,
    total: Arc<AtomicU64>,
    max: u64,
    over: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        const KEEP: usize = 8 << 10;
        let mut tail: Vec<u8> = Vec::new();
        let mut buf = [0u8; 16 << 10];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let t = total.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                    if t > max {
                        over.store(true, Ordering::SeqCst);
                    }
                    tail.extend_from_slice(&buf[..n]);
                    if tail.len() > 2 * KEEP {
                        tail.drain(..tail.len() - KEEP);
                    }
                }
            }
        }
        if tail.len() > KEEP {
            tail.drain(..tail.len() - KEEP);
        }
        tail
    })
}

type PhaseOut = (PhaseResult, f64, f64, Trace, Vec<LimitHit>);

#[allow(clippy::too_many_lines)]
fn run_phase(
    ctx: &Ctx,
    phase: Phase,
    argv: &[String],
    cwd: &str,
    box_dir: &Path,
) -> Result<PhaseOut, SandboxError> {
    let trace_file = ctx
        .work
        .join("meta/trace")
        .join(format!("{}.txt", phase.as_str()));
    let mut c = Command::new(&ctx.pre.strace);
    c.args([
        "-f",
        "-qq",
        "-ttt",
        "--seccomp-bpf",
        "--decode-pids=pidns",
        "-s",
        "4096",
        "-o",
    ])
    .arg(&trace_file)
    .args(["-e", &format!("trace={TRACE_SET}"), "--"])
    .arg(&ctx.pre.setpriv)
    .args([
        "--reuid",
        &ctx.uid.to_string(),
        "--regid",
        &ctx.uid.to_string(),
        "--clear-groups",
        "--",
    ])
    .arg(&ctx.pre.bwrap)
    .args([
        "--die-with-parent",
        "--new-session",
        "--unshare-user",
        "--uid",
        "1000",
        "--gid",
        "1000",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
    ])
    .arg(&ctx.bait.hostname)
    .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
    for h in HIDDEN {
        if Path::new(h).is_dir() {
            if *h == "/tmp" {
                c.args(["--size", &(ctx.opts.disk_bytes / 2).to_string()]);
            }
            c.args(["--tmpfs", h]);
        }
    }
    for (from, to) in &ctx.binds {
        c.arg("--ro-bind").arg(from).arg(to);
    }
    let meta = ctx.work.join("meta");
    c.arg("--bind").arg(box_dir.join("home")).arg(&ctx.home);
    c.arg("--ro-bind")
        .arg(meta.join("res"))
        .arg(format!("{}/res", ctx.run_dir));
    c.arg("--bind")
        .arg(ctx.work.join("ev"))
        .arg(format!("{}/ev", ctx.run_dir));
    for f in ["resolv.conf", "hostname", "passwd", "group"] {
        if Path::new("/etc").join(f).exists() {
            c.arg("--ro-bind")
                .arg(meta.join("etc").join(f))
                .arg(format!("/etc/{f}"));
        }
    }
    for (from, to) in &ctx.late_binds {
        c.arg("--ro-bind").arg(from).arg(to);
    }
    c.args(["--cap-drop", "ALL", "--clearenv"]);
    for (k, v) in &ctx.env {
        c.args(["--setenv", k, v]);
    }
    c.args(["--chdir", cwd, "--"]).args(argv);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.process_group(0);
    let limits = (
        ctx.opts.max_processes,
        ctx.opts.memory_bytes,
        ctx.opts.max_file_bytes,
    );
    // The login uid the kernel keeps per process (audit): the throw-away
    // uid, which the sandbox's user namespace shows as the person's 1000,
    // so glibc's getlogin() (`os.getlogin()`, `logname`) names them.
    let loginuid = ctx.uid.to_string().into_bytes();
    // SAFETY: the closure runs between fork and exec and only calls
    // setrlimit(2), prctl(2), open(2), write(2) and close(2), which are
    // async-signal-safe; it allocates nothing (the loginuid bytes are made
    // before the fork).
    #[allow(unsafe_code)]
    unsafe {
        c.pre_exec(move || {
            let (nproc, mem, fsize) = limits;
            setrlimit(Resource::RLIMIT_NPROC, nproc, nproc).map_err(std::io::Error::from)?;
            setrlimit(Resource::RLIMIT_AS, mem, mem).map_err(std::io::Error::from)?;
            setrlimit(Resource::RLIMIT_FSIZE, fsize, fsize).map_err(std::io::Error::from)?;
            setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(std::io::Error::from)?;
            // If the supervisor dies, strace (and with it, through bwrap's
            // --die-with-parent and the pid namespace, the sandbox) dies too.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Best effort (needs audit support and CAP_AUDIT_CONTROL): the
            // hook falls back to the account name when there is none.
            let fd = libc::open(c"/proc/self/loginuid".as_ptr(), libc::O_WRONLY);
            if fd >= 0 {
                libc::write(fd, loginuid.as_ptr().cast(), loginuid.len());
                libc::close(fd);
            }
            Ok(())
        });
    }
    let t0 = now();
    let started = Instant::now();
    let mut child = c
        .spawn()
        .map_err(|e| SandboxError::Setup(format!("cannot start strace: {e}")))?;
    let total = Arc::new(AtomicU64::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let out_h = child
        .stdout
        .take()
        .map(|o| drain(o, total.clone(), ctx.opts.max_output_bytes, over.clone()));
    let err_h = child
        .stderr
        .take()
        .map(|o| drain(o, total.clone(), ctx.opts.max_output_bytes, over.clone()));
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut hits = Vec::new();
    let mut killed_for: Option<&str> = None;
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if started.elapsed() > ctx.opts.phase_timeout {
            killed_for = Some("wall-clock");
        } else if over.load(Ordering::SeqCst) {
            killed_for = Some("output");
        }
        if killed_for.is_some() {
            // The whole group: strace, setpriv/bwrap; bwrap's sandbox init
            // dies with its parent and takes the pid namespace with it.
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let t1 = now();
    let stdout = out_h.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err_h.and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr_s = String::from_utf8_lossy(&stderr).into_owned();
    match killed_for {
        Some("wall-clock") => hits.push(LimitHit {
            phase,
            limit: "wall-clock".into(),
            detail: format!("stopped after {} s", ctx.opts.phase_timeout.as_secs()),
        }),
        Some(_) => hits.push(LimitHit {
            phase,
            limit: "output".into(),
            detail: format!(
                "stopped after {} bytes of output",
                total.load(Ordering::SeqCst)
            ),
        }),
        None => {}
    }
    let trace = strace::parse(&read_bounded(&trace_file, 128 << 20));
    let refused = trace
        .events
        .iter()
        .filter(|e| e.kind == SysKind::SpawnRefused)
        .count();
    if refused > 0 {
        hits.push(LimitHit {
            phase,
            limit: "processes".into(),
            detail: format!(
                "{refused} fork/clone calls refused at {} processes",
                ctx.opts.max_processes
            ),
        });
    }
    if trace.killed.iter().any(|(_, s)| s == "SIGXFSZ") {
        hits.push(LimitHit {
            phase,
            limit: "file-size".into(),
            detail: format!(
                "a process tried to write a file over {} bytes",
                ctx.opts.max_file_bytes
            ),
        });
    }
    if let Ok(st) = nix::sys::statvfs::statvfs(box_dir) {
        let total_b = st.blocks() * st.fragment_size();
        let avail = st.blocks_available() * st.fragment_size();
        if total_b > 0 && avail < total_b / 50 {
            hits.push(LimitHit {
                phase,
                limit: "disk".into(),
                detail: format!("sandbox disk full ({total_b} bytes)"),
            });
        }
    }
    if [
        "MemoryError",
        "Cannot allocate memory",
        "heap out of memory",
        "bad_alloc",
    ]
    .iter()
    .any(|m| stderr_s.contains(m))
    {
        hits.push(LimitHit {
            phase,
            limit: "memory".into(),
            detail: format!(
                "allocation refused at {} bytes per process",
                ctx.opts.memory_bytes
            ),
        });
    }
    let exit_code = status.and_then(|s| s.code());
    let status_s = if killed_for.is_some() {
        "limit"
    } else if exit_code == Some(0) {
        "completed"
    } else {
        "failed"
    };
    let res = PhaseResult {
        phase,
        status: status_s.into(),
        exit_code,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        stdout_tail: String::from_utf8_lossy(&stdout).into_owned(),
        stderr_tail: stderr_s,
    };
    Ok((res, t0, t1, trace, hits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_inside_do_not_name_the_tool() {
        for src in [HOOK_PY, HOOK_JS, DRIVER_PY, DRIVER_JS] {
            let inside = disguise(src).to_lowercase();
            assert!(
                !inside.contains("sluice"),
                "{}",
                &inside[..300.min(inside.len())]
            );
            assert!(inside.len() > src.len() / 2);
        }
        assert!(disguise(HOOK_JS).starts_with("'use strict';\n"));
        assert!(disguise(HOOK_PY).starts_with("import "));
    }
}
