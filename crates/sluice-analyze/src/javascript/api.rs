//! What the Node.js APIs the rules care about are called, and which labels
//! their results carry.

use super::facts::{Call, Facts, label};

/// Modules whose file-system methods the rules recognise.
const FS_ROOTS: [&str; 6] = [
    "fs",
    "fs.promises",
    "fs-extra",
    "graceful-fs",
    "fs-extra.promises",
    "fs.default",
];

/// The method of an `fs`-like module call (`fs.promises.readFile` →
/// `readFile`).
#[must_use]
pub fn fs_method(path: &str) -> Option<&str> {
    let (root, m) = path.rsplit_once('.')?;
    FS_ROOTS.contains(&root).then_some(m)
}

/// Reads a file or lists a folder.
#[must_use]
pub fn is_fs_read(path: &str) -> bool {
    fs_method(path).is_some_and(|m| {
        matches!(
            m,
            "readFile"
                | "readFileSync"
                | "createReadStream"
                | "readdir"
                | "readdirSync"
                | "readJson"
                | "readJsonSync"
                | "copyFile"
                | "copyFileSync"
                | "cp"
                | "cpSync"
                | "open"
                | "openSync"
        )
    })
}

/// Writes or appends to a file.
#[must_use]
pub fn is_fs_write(path: &str) -> bool {
    fs_method(path).is_some_and(|m| {
        matches!(
            m,
            "writeFile"
                | "writeFileSync"
                | "appendFile"
                | "appendFileSync"
                | "createWriteStream"
                | "outputFile"
                | "outputFileSync"
                | "copyFile"
                | "copyFileSync"
                | "symlink"
                | "symlinkSync"
        )
    })
}

/// Changes file mode.
#[must_use]
pub fn is_chmod(path: &str) -> bool {
    fs_method(path).is_some_and(|m| matches!(m, "chmod" | "chmodSync"))
}

/// Removes files or folders.
#[must_use]
pub fn is_remove(path: &str) -> bool {
    fs_method(path).is_some_and(|m| {
        matches!(
            m,
            "rm" | "rmSync"
                | "rmdir"
                | "rmdirSync"
                | "remove"
                | "removeSync"
                | "emptyDir"
                | "emptyDirSync"
        )
    }) || matches!(
        path,
        "rimraf"
            | "rimraf.sync"
            | "rimraf.rimraf"
            | "rimraf.rimrafSync"
            | "del"
            | "del.sync"
            | "del.deleteSync"
    )
}

/// Starts a process.
#[must_use]
pub fn is_process(path: &str) -> bool {
    matches!(
        path,
        "child_process.exec"
            | "child_process.execSync"
            | "child_process.spawn"
            | "child_process.spawnSync"
            | "child_process.execFile"
            | "child_process.execFileSync"
            | "child_process.fork"
            | "execa"
            | "execa.execa"
            | "execa.command"
            | "execa.execaCommand"
            | "execa.sync"
            | "execa.commandSync"
            | "execa.execaSync"
            | "execa.$"
            | "cross-spawn"
            | "cross-spawn.sync"
            | "shelljs.exec"
    )
}

/// Starts a process through a shell (the first argument is a command line).
#[must_use]
pub fn is_shell_exec(path: &str) -> bool {
    matches!(
        path,
        "child_process.exec"
            | "child_process.execSync"
            | "execa.command"
            | "execa.execaCommand"
            | "execa.commandSync"
            | "shelljs.exec"
    )
}

/// Makes a network request or opens a connection.
#[must_use]
pub fn is_network(path: &str) -> bool {
    matches!(
        path,
        "http.request"
            | "http.get"
            | "https.request"
            | "https.get"
            | "http2.connect"
            | "net.connect"
            | "net.createConnection"
            | "net.Socket"
            | "tls.connect"
            | "dgram.createSocket"
            | "fetch"
            | "node-fetch"
            | "undici.fetch"
            | "undici.request"
            | "axios"
            | "axios.get"
            | "axios.post"
            | "axios.put"
            | "axios.patch"
            | "axios.request"
            | "axios.create"
            | "got.extend"
            | "got"
            | "got.get"
            | "got.post"
            | "got.stream"
            | "request"
            | "request.get"
            | "request.post"
            | "needle"
            | "needle.get"
            | "needle.post"
            | "needle.request"
            | "superagent.get"
            | "superagent.post"
            | "XMLHttpRequest"
            | "WebSocket"
            | "ws"
            | "ws.WebSocket"
            | "discord.js.WebhookClient"
            | "node-telegram-bot-api"
    )
}

/// Resolves a name: the argument leaves the machine as a DNS query.
#[must_use]
pub fn is_dns(path: &str) -> bool {
    let m = path
        .strip_prefix("dns.promises.")
        .or_else(|| path.strip_prefix("dns."));
    m.is_some_and(|m| {
        matches!(
            m,
            "lookup"
                | "resolve"
                | "resolve4"
                | "resolve6"
                | "resolveTxt"
                | "resolveCname"
                | "resolveAny"
                | "resolveMx"
                | "resolveNs"
        )
    })
}

/// Runs code from a string.
#[must_use]
pub fn is_eval(c: &Call<'_>) -> bool {
    let p = c.path.as_deref().map(|p| {
        p.strip_suffix(".apply")
            .or_else(|| p.strip_suffix(".call"))
            .unwrap_or(p)
    });
    match p {
        Some(
            "eval"
            | "Function"
            | "vm.runInThisContext"
            | "vm.runInNewContext"
            | "vm.runInContext"
            | "vm.Script"
            | "vm.compileFunction"
            | "vm.SourceTextModule",
        ) => true,
        _ => matches!(c.method, Some("_compile")),
    }
}

/// Roots worth keeping as bindings.
#[must_use]
pub fn known_root(_root: &str) -> bool {
    true
}

/// Labels carried by the result of a call.
#[must_use]
pub fn call_labels(f: &Facts<'_>, c: &Call<'_>) -> u32 {
    let Some(p) = c.path.as_deref() else { return 0 };
    // `String.fromCharCode.apply(null, codes)` decodes like the plain call.
    let p = p
        .strip_suffix(".apply")
        .or_else(|| p.strip_suffix(".call"))
        .unwrap_or(p);
    let mut l = match p {
        "os.hostname" => label::HOST,
        "os.userInfo" => label::USER,
        "os.networkInterfaces" => label::NETIF,
        "os.platform" | "os.type" | "os.release" | "os.arch" | "os.version" | "os.machine"
        | "os.cpus" | "os.totalmem" => label::OSINFO,
        "os.homedir" => label::HOME,
        "atob"
        | "unescape"
        | "decodeURIComponent"
        | "String.fromCharCode"
        | "zlib.inflateSync"
        | "zlib.gunzipSync"
        | "zlib.inflateRawSync"
        | "zlib.brotliDecompressSync"
        | "zlib.unzipSync"
        | "crypto.createDecipheriv"
        | "crypto.createDecipher" => label::DECODED,
        "Buffer.from" | "Buffer" => {
            let enc = c.args.get(1).and_then(|&a| f.string_value(a));
            if enc.is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "base64" | "hex" | "base64url"
                )
            }) {
                label::DECODED
            } else {
                0
            }
        }
        _ => 0,
    };
    if is_network(p) {
        l |= label::NET;
    }
    if is_fs_content_read(p) {
        l |= label::FILEDATA;
    }
    if is_screenshot(p) {
        l |= label::SCREEN;
    }
    if is_clipboard_read(p) {
        l |= label::CLIP;
    }
    if is_process(p) {
        if returns_output(p) {
            l |= label::PROCOUT;
        }
        if super::js213_clipboard_hijack::command_reads_clipboard(f, c) {
            l |= label::CLIP;
        }
        let first = c.args.first().and_then(|&a| f.const_string(a, 0));
        if first.as_deref().is_some_and(is_shell_name) {
            l |= label::SHELL;
        }
        // `execSync('whoami')`: the output is host information.
        if first.is_some_and(|s| super::shell::classify(&s).recon.is_some()) {
            l |= label::USER | label::HOST;
        }
    }
    l
}

/// Reads a file's contents (not a folder listing, not a copy).
#[must_use]
pub fn is_fs_content_read(path: &str) -> bool {
    fs_method(path).is_some_and(|m| {
        matches!(
            m,
            "readFile" | "readFileSync" | "createReadStream" | "readJson" | "readJsonSync"
        )
    })
}

/// A process call whose result (or callback) carries the command's output:
/// the synchronous forms, `exec`/`execFile` (stdout in the callback), execa
/// and shelljs. `spawn`/`fork` return a process object and are left out.
#[must_use]
pub fn returns_output(path: &str) -> bool {
    is_process(path)
        && !matches!(
            path,
            "child_process.spawn" | "child_process.fork" | "cross-spawn"
        )
}

/// Takes a screenshot.
#[must_use]
pub fn is_screenshot(path: &str) -> bool {
    let root = path.split('.').next().unwrap_or(path);
    matches!(root, "screenshot-desktop" | "node-screenshots")
        || path.ends_with("desktopCapturer.getSources")
        || path == "robotjs.screen.capture"
}

/// Reads the clipboard through a library.
#[must_use]
pub fn is_clipboard_read(path: &str) -> bool {
    matches!(
        path,
        "clipboardy.read"
            | "clipboardy.readSync"
            | "clipboardy.default.read"
            | "clipboardy.default.readSync"
            | "electron.clipboard.readText"
            | "copy-paste.paste"
            | "node-clipboardy.read"
            | "@napi-rs/clipboard.getText"
    )
}

/// Writes the clipboard through a library.
#[must_use]
pub fn is_clipboard_write(path: &str) -> bool {
    matches!(
        path,
        "clipboardy.write"
            | "clipboardy.writeSync"
            | "clipboardy.default.write"
            | "clipboardy.default.writeSync"
            | "electron.clipboard.writeText"
            | "copy-paste.copy"
            | "node-clipboardy.write"
            | "@napi-rs/clipboard.setText"
    )
}

/// The cloud instance-metadata service (IAM role credentials, service
/// account tokens), named in a string.
#[must_use]
pub fn imds_marker(s: &str) -> Option<&'static str> {
    const HOSTS: [&str; 5] = [
        "169.254.169.254",
        "metadata.google.internal",
        "169.254.170.2",
        "100.100.100.200",
        "fd00:ec2::254",
    ];
    if s.len() > 4096 {
        return None;
    }
    HOSTS.iter().find(|h| s.contains(**h)).copied()
}

/// `/bin/sh`, `bash`, `cmd.exe`, `powershell`.
#[must_use]
pub fn is_shell_name(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    let base = s.rsplit(['/', '\\']).next().unwrap_or(&s);
    matches!(
        base,
        "sh" | "bash"
            | "zsh"
            | "dash"
            | "ksh"
            | "cmd"
            | "cmd.exe"
            | "powershell"
            | "powershell.exe"
            | "pwsh"
    )
}

/// Labels for `process.env.NAME`.
#[must_use]
pub fn env_var_labels(var: &str) -> u32 {
    let v = var.to_ascii_uppercase();
    match v.as_str() {
        "USER" | "USERNAME" | "LOGNAME" => label::USER,
        "HOSTNAME" | "COMPUTERNAME" => label::HOST,
        "HOME" | "USERPROFILE" => label::HOME,
        _ if is_secret_env(&v) => label::SECENV,
        _ => 0,
    }
}

/// A secret-looking environment variable name (upper-case).
#[must_use]
pub fn is_secret_env(v: &str) -> bool {
    v.contains("TOKEN")
        || v.contains("SECRET")
        || v.contains("PASSWORD")
        || v.contains("PASSWD")
        || v.contains("API_KEY")
        || v.contains("APIKEY")
        || v.contains("PRIVATE_KEY")
        || v.starts_with("AWS_ACCESS_KEY")
        || v.starts_with("AWS_SESSION")
        || v.contains("CREDENTIAL")
}

fn path_has(s: &str, m: &str) -> bool {
    s == m
        || s.strip_suffix(m)
            .is_some_and(|p| p.ends_with('/') || p.ends_with('~'))
        || s.contains(&format!("/{m}/"))
        || s.starts_with(&format!("{m}/"))
}

/// A credential store named in a (lower-cased, `/`-separated) path.
#[must_use]
pub fn secret_marker(s: &str) -> Option<&'static str> {
    const DOT: [&str; 10] = [
        ".npmrc",
        ".ssh",
        ".aws",
        ".netrc",
        ".git-credentials",
        ".pypirc",
        ".gnupg",
        ".bash_history",
        ".zsh_history",
        ".kube",
    ];
    const SUB: [&str; 32] = [
        ".ssh/id_",
        "id_rsa",
        "id_ed25519",
        ".aws/credentials",
        ".config/gcloud",
        "application_default_credentials.json",
        ".docker/config.json",
        ".kube/config",
        "local storage/leveldb",
        "login data",
        // Chromium profiles: cookies, the key that decrypts them, profiles.
        "network/cookies",
        "default/cookies",
        "user data/local state",
        "chrome/user data",
        "chromium/user data",
        "edge/user data",
        "brave-browser/user data",
        "opera software/opera",
        "local extension settings",
        // Firefox profiles: saved logins and their key.
        "key4.db",
        "cookies.sqlite",
        "firefox/profiles",
        // Messengers and wallets.
        "telegram desktop/tdata",
        "/etc/shadow",
        "/etc/passwd",
        "wallet.dat",
        ".ethereum/keystore",
        "exodus.wallet",
        "electrum/wallets",
        "solana/id.json",
        // MetaMask and Phantom extension storage.
        "nkbihfbeogaeaoehlefnkodbefgpgknn",
        "bfnaelmomeimhlpmgjnjophhpkkoljpa",
    ];
    if s.len() > 4096 {
        return None;
    }
    if let Some(m) = SUB.iter().find(|m| s.contains(**m)) {
        return Some(m);
    }
    DOT.iter().find(|m| path_has(s, m)).copied()
}

/// A persistence location named in a (lower-cased, `/`-separated) path.
#[must_use]
pub fn persist_marker(s: &str) -> Option<&'static str> {
    const DOT: [&str; 7] = [
        ".bashrc",
        ".zshrc",
        ".bash_profile",
        ".profile",
        ".zprofile",
        ".bash_login",
        "crontab",
    ];
    const SUB: [&str; 11] = [
        "/etc/cron",
        "/var/spool/cron",
        "start menu/programs/startup",
        "library/launchagents",
        "library/launchdaemons",
        ".config/autostart",
        "/etc/systemd/system",
        ".config/systemd/user",
        "currentversion/run",
        "/etc/rc.local",
        "/etc/profile",
    ];
    if s.len() > 4096 {
        return None;
    }
    if let Some(m) = SUB.iter().find(|m| s.contains(**m)) {
        return Some(m);
    }
    DOT.iter().find(|m| path_has(s, m)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(secret_marker("/home/u/.npmrc"), Some(".npmrc"));
        assert_eq!(secret_marker(".ssh/id_rsa"), Some(".ssh/id_"));
        assert_eq!(secret_marker("my.npmrc.example"), None);
        assert_eq!(secret_marker("config/.sshrc"), None);
        for p in [
            "c:/users/u/appdata/local/google/chrome/user data/default/login data",
            "…/google/chrome/user data/default/network/cookies",
            "…/google/chrome/user data/local state",
            "~/library/application support/firefox/profiles/x.default/key4.db",
            "…/discord/local storage/leveldb",
            "…/telegram desktop/tdata",
            "…/exodus/exodus.wallet",
            "~/.electrum/wallets/default_wallet",
            "…/local extension settings/nkbihfbeogaeaoehlefnkodbefgpgknn",
            "~/.aws/credentials",
            "~/.config/gcloud/credentials.db",
            "~/.kube/config",
            "~/.npmrc",
            "~/.pypirc",
            "~/.git-credentials",
        ] {
            assert!(secret_marker(p).is_some(), "{p}");
        }
        for p in [
            "src/cookies.js",
            "docs/local state.md",
            "lib/wallet.js",
            "user data",
        ] {
            assert_eq!(secret_marker(p), None, "{p}");
        }
        assert!(imds_marker("http://169.254.169.254/latest/meta-data/").is_some());
        assert!(imds_marker("http://metadata.google.internal/computeMetadata/v1/").is_some());
        assert!(imds_marker("http://192.0.2.1/").is_none());
        assert_eq!(persist_marker("~/.bashrc"), Some(".bashrc"));
        assert_eq!(persist_marker("user.profile"), None);
        assert!(is_shell_name("/bin/sh"));
        assert!(!is_shell_name("shx"));
    }
}
