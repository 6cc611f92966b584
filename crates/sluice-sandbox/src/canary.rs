//! Canary secrets: per-run random values planted in the sandbox home and
//! environment, and the search for them in captured traffic.
//!
//! A canary value is random for every run, so seeing one in a payload that
//! left a process is proof that the package read it and sent it out.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// One planted secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    /// What it stands for (`aws-secret-key (env)`, `npm-token (.npmrc)`).
    pub label: String,
    /// Where it was planted (`env AWS_SECRET_ACCESS_KEY`, `~/.npmrc`).
    pub planted: String,
    /// The random value.
    pub value: String,
}

/// All values planted for one run, plus the home files that hold them.
#[derive(Clone, Debug)]
pub(crate) struct Bait {
    pub canaries: Vec<Canary>,
    /// `(path relative to home, contents)`.
    pub files: Vec<(String, String)>,
    /// `(name, value)` environment variables.
    pub env: Vec<(String, String)>,
    pub hostname: String,
    pub user: String,
    /// Values written into SQLite decoys by [`write_binary_decoys`]:
    /// (saved password, session cookie).
    pub browser: (String, String),
    /// A Telegram user-bot session (Telethon SQLite): (path relative to
    /// home, auth key).
    pub tg_session: (String, String),
}

/// A small non-cryptographic generator seeded from the clock, the pid and
/// the address of a stack value: canaries need to be unique per run, not
/// secret from an attacker who can already read them.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        let addr = std::ptr::addr_of!(local) as u64;
        let mut r = Rng(t ^ (u64::from(std::process::id()) << 32) ^ addr.rotate_left(17));
        r.next();
        r
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0 | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| {
                let i = self.below(alphabet.len() as u64) as usize;
                char::from(alphabet.get(i).copied().unwrap_or(b'x'))
            })
            .collect()
    }
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn make_bait(rng: &mut Rng) -> Bait {
    const FIRST: &[&str] = &[
        "alex", "maria", "dmitri", "li", "sam", "priya", "jonas", "eva",
    ];
    const HOSTS: &[&str] = &["build", "ws", "dev", "ci-runner", "laptop", "app"];
    let first = FIRST[rng.below(FIRST.len() as u64) as usize];
    let user = format!(
        "{first}{}",
        rng.string(b"0123456789abcdefghjkmnpqrstuvwxyz", 5)
    );
    let host = HOSTS[rng.below(HOSTS.len() as u64) as usize];
    let hostname = format!("{host}-{}", rng.string(LOWER, 8));

    let ssh_body: Vec<String> = (0..6).map(|_| rng.string(B64, 70)).collect();
    let ssh_key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        ssh_body.join("\n")
    );
    let aws_file_id = format!("AKIA{}", rng.string(UPPER, 16));
    let aws_file_secret = rng.string(ALNUM, 40);
    let aws_env_id = format!("AKIA{}", rng.string(UPPER, 16));
    let aws_env_secret = rng.string(ALNUM, 40);
    let npmrc_token = format!("npm_{}", rng.string(ALNUM, 36));
    let npm_env = format!("npm_{}", rng.string(ALNUM, 36));
    let pypi_token = format!("pypi-AgEIcHlwaS5vcmc{}", rng.string(ALNUM, 40));
    let gh_env = format!("ghp_{}", rng.string(ALNUM, 36));
    let git_cred = rng.string(ALNUM, 24);
    let azure_env = rng.string(ALNUM, 34);
    // Stores a stealer goes for: a Discord token in the client's leveldb, a
    // saved browser password and session cookie (SQLite, written later), a
    // wallet seed, cluster and cloud tokens, a key left in shell history.
    let discord = format!(
        "{}.{}.{}",
        rng.string(ALNUM, 24),
        rng.string(ALNUM, 6),
        rng.string(ALNUM, 38)
    );
    let browser_pw = rng.string(ALNUM, 18);
    let browser_cookie = rng.string(ALNUM, 40);
    let wallet_seed = (0..12)
        .map(|_| {
            const WORDS: &[&str] = &[
                "orbit", "maple", "velvet", "canyon", "ladder", "pepper", "quartz", "ripple",
                "saddle", "timber", "umbrella", "walnut", "anchor", "bronze", "cactus", "dolphin",
            ];
            WORDS[rng.below(WORDS.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
        + " "
        + &rng.string(b"abcdefghijklmnopqrstuvwxyz", 8);
    let kube_token = format!("eyJhbGciOiJSUzI1NiIs{}", rng.string(ALNUM, 60));
    let gcloud_refresh = format!("1//0{}", rng.string(ALNUM, 60));
    let docker_auth = rng.string(ALNUM, 32);
    let history_key = format!("sk-{}", rng.string(ALNUM, 40));
    let corp = ["acme", "northwind", "globex", "initech"][rng.below(4) as usize];
    let ff_profile = rng.string(LOWER, 8);
    // User-bot frameworks keep a Telethon session (the account's auth key)
    // in their folder; stealers list `~/Hikka`, `~/Heroku`, … for `*.session`.
    let tg_session = (
        format!("Hikka/hikka-{}.session", rng.string(b"0123456789", 10)),
        rng.string(ALNUM, 48),
    );

    let c = |label: &str, planted: &str, value: &str| Canary {
        label: label.to_owned(),
        planted: planted.to_owned(),
        value: value.to_owned(),
    };
    let canaries = vec![
        c(
            "ssh-private-key",
            "~/.ssh/id_rsa",
            ssh_body.first().map_or("", String::as_str),
        ),
        c("aws-access-key-id", "~/.aws/credentials", &aws_file_id),
        c("aws-secret-key", "~/.aws/credentials", &aws_file_secret),
        c("aws-access-key-id", "env AWS_ACCESS_KEY_ID", &aws_env_id),
        c(
            "aws-secret-key",
            "env AWS_SECRET_ACCESS_KEY",
            &aws_env_secret,
        ),
        c("npm-token", "~/.npmrc", &npmrc_token),
        c("npm-token", "env NPM_TOKEN", &npm_env),
        c("pypi-token", "~/.pypirc", &pypi_token),
        c("github-token", "env GITHUB_TOKEN", &gh_env),
        c("git-credentials", "~/.git-credentials", &git_cred),
        c("azure-client-secret", "env AZURE_CLIENT_SECRET", &azure_env),
        c(
            "discord-token",
            "~/.config/discord/Local Storage/leveldb",
            &discord,
        ),
        c(
            "browser-password",
            "~/.config/google-chrome/Default/Login Data",
            &browser_pw,
        ),
        c(
            "browser-cookie",
            "~/.config/google-chrome/Default/Cookies",
            &browser_cookie,
        ),
        c(
            "wallet-seed",
            "~/.electrum/wallets/default_wallet",
            wallet_seed.rsplit(' ').next().unwrap_or(""),
        ),
        c("kube-token", "~/.kube/config", &kube_token),
        c(
            "gcloud-refresh-token",
            "~/.config/gcloud/application_default_credentials.json",
            &gcloud_refresh,
        ),
        c("docker-auth", "~/.docker/config.json", &docker_auth),
        c(
            "telegram-session",
            &format!("~/{}", tg_session.0),
            &tg_session.1,
        ),
        c("api-key", "~/.bash_history", &history_key),
        c("hostname", "host name", &hostname),
        c("username", "user name", &user),
    ];
    let files = vec![
        (".ssh/id_rsa".to_owned(), ssh_key),
        (
            ".ssh/id_rsa.pub".to_owned(),
            format!("ssh-rsa {} {user}@{hostname}\n", rng.string(B64, 60)),
        ),
        (
            ".aws/credentials".to_owned(),
            format!(
                "[default]\naws_access_key_id = {aws_file_id}\naws_secret_access_key = {aws_file_secret}\n"
            ),
        ),
        (
            ".npmrc".to_owned(),
            format!("//npm.{corp}-internal.net/:_authToken={npmrc_token}\n"),
        ),
        (
            ".pypirc".to_owned(),
            format!(
                "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {pypi_token}\n"
            ),
        ),
        (
            ".git-credentials".to_owned(),
            format!("https://{user}:{git_cred}@git.{corp}-internal.net\n"),
        ),
        (
            ".gitconfig".to_owned(),
            format!(
                "[user]\n\tname = {user}\n\temail = {user}@{corp}.com\n[credential]\n\thelper = store\n"
            ),
        ),
        (
            ".bash_history".to_owned(),
            format!(
                "git status\ncd project\npython -m venv .venv\nsource .venv/bin/activate\npip install -r requirements.txt\nexport OPENAI_API_KEY={history_key}\npytest -q\ngit push origin main\ndocker compose up -d\nkubectl get pods\n"
            ),
        ),
        (
            ".config/discord/Local Storage/leveldb/000005.ldb".to_owned(),
            format!("\u{1}_https://discord.com\u{0}\u{1}token\u{1}\"{discord}\"\n"),
        ),
        (
            ".config/discord/Local Storage/leveldb/LOG".to_owned(),
            "2026/11/30-09:12:01.512 1f04 Recovering log #3\n".to_owned(),
        ),
        (
            ".config/google-chrome/Local State".to_owned(),
            format!(
                "{{\"os_crypt\":{{\"encrypted_key\":\"RFBBUEkB{}\"}},\"profile\":{{\"last_used\":\"Default\"}}}}\n",
                rng.string(B64, 300)
            ),
        ),
        (
            format!(".mozilla/firefox/{ff_profile}.default-release/logins.json"),
            format!(
                "{{\"nextId\":2,\"logins\":[{{\"id\":1,\"hostname\":\"https://mail.{corp}.com\",\"encryptedUsername\":\"MDoEEPgAAAAA{}\",\"encryptedPassword\":\"MEIEEPgAAAAA{}\"}}]}}\n",
                rng.string(B64, 40),
                rng.string(B64, 40)
            ),
        ),
        (
            ".mozilla/firefox/profiles.ini".to_owned(),
            format!(
                "[Profile0]\nName=default-release\nIsRelative=1\nPath={ff_profile}.default-release\nDefault=1\n"
            ),
        ),
        (
            ".electrum/wallets/default_wallet".to_owned(),
            format!(
                "{{\"seed_version\": 52, \"keystore\": {{\"type\": \"bip32\", \"seed\": \"{wallet_seed}\"}}, \"wallet_type\": \"standard\"}}\n"
            ),
        ),
        (
            ".config/Exodus/exodus.wallet/seed.seco".to_owned(),
            rng.string(B64, 200),
        ),
        (
            ".local/share/TelegramDesktop/tdata/key_datas".to_owned(),
            rng.string(B64, 120),
        ),
        (
            ".kube/config".to_owned(),
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://k8s.{corp}-internal.net:6443\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: {user}\n  name: prod\ncurrent-context: prod\nusers:\n- name: {user}\n  user:\n    token: {kube_token}\n"
            ),
        ),
        (
            ".config/gcloud/application_default_credentials.json".to_owned(),
            format!(
                "{{\"client_id\": \"{}.apps.googleusercontent.com\", \"client_secret\": \"{}\", \"refresh_token\": \"{gcloud_refresh}\", \"type\": \"authorized_user\"}}\n",
                rng.string(b"0123456789", 12),
                rng.string(ALNUM, 24)
            ),
        ),
        (
            ".docker/config.json".to_owned(),
            format!(
                "{{\"auths\": {{\"registry.{corp}-internal.net\": {{\"auth\": \"{docker_auth}\"}}}}}}\n"
            ),
        ),
        (
            ".bashrc".to_owned(),
            "# ~/.bashrc\nexport PS1='\\u@\\h:\\w\\$ '\n".to_owned(),
        ),
        (
            ".profile".to_owned(),
            "# ~/.profile\n. \"$HOME/.bashrc\"\n".to_owned(),
        ),
    ];
    let env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), aws_env_id),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), aws_env_secret),
        ("AWS_DEFAULT_REGION".to_owned(), "eu-west-1".to_owned()),
        ("NPM_TOKEN".to_owned(), npm_env),
        ("GITHUB_TOKEN".to_owned(), gh_env),
        ("AZURE_CLIENT_SECRET".to_owned(), azure_env),
    ];
    Bait {
        canaries,
        files,
        env,
        hostname,
        user,
        browser: (browser_pw, browser_cookie),
        tg_session,
    }
}

/// Browser stores are SQLite files: a stealer opens them with `sqlite3`
/// and sends the rows. Chrome's `Login Data` and `Cookies` (and Firefox's
/// `cookies.sqlite`) with the tables and columns stealers query, holding
/// this run's canary password and cookie.
pub(crate) fn write_binary_decoys(home: &std::path::Path, bait: &Bait) -> std::io::Result<()> {
    let (pw, cookie) = &bait.browser;
    let chrome = home.join(".config/google-chrome/Default");
    std::fs::create_dir_all(&chrome)?;
    let err = |e: rusqlite::Error| std::io::Error::other(e.to_string());
    let db = rusqlite::Connection::open(chrome.join("Login Data")).map_err(err)?;
    db.execute_batch(
        "CREATE TABLE logins (origin_url VARCHAR NOT NULL, action_url VARCHAR, username_element VARCHAR, \
         username_value VARCHAR, password_element VARCHAR, password_value BLOB, date_created INTEGER NOT NULL);",
    )
    .map_err(err)?;
    db.execute(
        "INSERT INTO logins VALUES ('https://mail.example-corp.com/', '', 'email', ?1, 'password', ?2, 13370000000000000)",
        rusqlite::params![format!("{}@example-corp.com", bait.user), format!("v10{pw}").into_bytes()],
    )
    .map_err(err)?;
    drop(db);
    let db = rusqlite::Connection::open(chrome.join("Cookies")).map_err(err)?;
    db.execute_batch(
        "CREATE TABLE cookies (creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL, name TEXT NOT NULL, \
         value TEXT NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL, is_secure INTEGER NOT NULL, \
         encrypted_value BLOB DEFAULT '');",
    )
    .map_err(err)?;
    db.execute(
        "INSERT INTO cookies VALUES (13370000000000000, '.example-corp.com', 'session', ?1, '/', 13400000000000000, 1, ?2)",
        rusqlite::params![cookie, format!("v10{cookie}").into_bytes()],
    )
    .map_err(err)?;
    drop(db);
    if let Some(profile) = bait
        .files
        .iter()
        .find_map(|(p, _)| p.strip_suffix("/logins.json"))
    {
        let db =
            rusqlite::Connection::open(home.join(profile).join("cookies.sqlite")).map_err(err)?;
        db.execute_batch(
            "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER);",
        )
        .map_err(err)?;
        db.execute(
            "INSERT INTO moz_cookies (name, value, host, path, expiry) VALUES ('session', ?1, '.example-corp.com', '/', 1900000000)",
            rusqlite::params![cookie],
        )
        .map_err(err)?;
        std::fs::write(home.join(profile).join("key4.db"), b"SQLite format 3\0")?;
    }
    let (path, key) = &bait.tg_session;
    let path = home.join(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let db = rusqlite::Connection::open(&path).map_err(err)?;
    db.execute_batch(
        "CREATE TABLE version (version INTEGER PRIMARY KEY); INSERT INTO version VALUES (7); \
         CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, server_address TEXT, port INTEGER, \
         auth_key BLOB, takeout_id INTEGER);",
    )
    .map_err(err)?;
    db.execute(
        "INSERT INTO sessions VALUES (2, '149.154.167.51', 443, ?1, NULL)",
        rusqlite::params![key.as_bytes()],
    )
    .map_err(err)?;
    Ok(())
}

/// How a canary was found in a payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryHit {
    /// The canary's label.
    pub label: String,
    /// Where it was planted.
    pub planted: String,
    /// `raw`, `url-encoded`, `hex`, `base64` or `dns-labels`.
    pub encoding: String,
}

/// Canaries found in `payload`, each once, with the first encoding that
/// matched. Values shorter than 6 bytes are ignored (too many accidents).
pub fn find_canaries(payload: &[u8], canaries: &[Canary]) -> Vec<CanaryHit> {
    let decoded_url = percent_decode(payload);
    let lower: Vec<u8> = payload.to_ascii_lowercase();
    let b64 = base64_runs(payload);
    let hex_runs = hex_runs(&lower);
    let mut hits: Vec<CanaryHit> = Vec::new();
    for c in canaries {
        let v = c.value.as_bytes();
        if v.len() < 6
            || hits
                .iter()
                .any(|h| h.label == c.label && h.planted == c.planted)
        {
            continue;
        }
        let hex_v = hex::encode(v);
        let encoding = if contains(payload, v) {
            Some("raw")
        } else if decoded_url.as_deref().is_some_and(|d| contains(d, v)) {
            Some("url-encoded")
        } else if contains(&lower, hex_v.as_bytes()) || hex_runs.iter().any(|d| contains(d, v)) {
            Some("hex")
        } else if b64.iter().any(|d| contains(d, v)) {
            Some("base64")
        } else {
            None
        };
        if let Some(e) = encoding {
            hits.push(CanaryHit {
                label: c.label.clone(),
                planted: c.planted.clone(),
                encoding: e.to_owned(),
            });
        }
    }
    hits
}

/// Canaries hidden in a DNS name: the labels left of the last two are
/// joined (exfiltration splits data over 63-byte labels) and searched raw,
/// as hex, and as base32/base64.
pub fn find_canaries_in_dns(name: &str, canaries: &[Canary]) -> Vec<CanaryHit> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    if labels.len() < 3 {
        return Vec::new();
    }
    let keep = labels.len().saturating_sub(2);
    let joined: String = labels.iter().take(keep).copied().collect();
    let dotted = labels
        .iter()
        .take(keep)
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    let mut hits = find_canaries(joined.as_bytes(), canaries);
    for h in find_canaries(dotted.as_bytes(), canaries) {
        if !hits
            .iter()
            .any(|x| x.label == h.label && x.planted == h.planted)
        {
            hits.push(h);
        }
    }
    if let Some(b32) = base32_decode(&joined) {
        for c in canaries {
            if c.value.len() >= 6
                && contains(&b32, c.value.as_bytes())
                && !hits
                    .iter()
                    .any(|x| x.label == c.label && x.planted == c.planted)
            {
                hits.push(CanaryHit {
                    label: c.label.clone(),
                    planted: c.planted.clone(),
                    encoding: "base32".to_owned(),
                });
            }
        }
    }
    for h in &mut hits {
        h.encoding = format!("dns-labels/{}", h.encoding);
    }
    hits
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn percent_decode(b: &[u8]) -> Option<Vec<u8>> {
    if !b.contains(&b'%') && !b.contains(&b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c == b'%' {
            let h = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    Some(out)
}

/// Decode every run of 16+ base64 characters (standard and URL alphabets),
/// trying the three alignments so a run cut mid-quantum still decodes.
fn base64_runs(b: &[u8]) -> Vec<Vec<u8>> {
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
    let mut out = Vec::new();
    for run in b.split(|c| !is_b64(*c) && *c != b'=') {
        let run: Vec<u8> = run.iter().copied().filter(|c| *c != b'=').collect();
        if run.len() < 16 {
            continue;
        }
        let std_run: Vec<u8> = run
            .iter()
            .map(|c| match c {
                b'-' => b'+',
                b'_' => b'/',
                x => *x,
            })
            .collect();
        for skip in 0..4 {
            let Some(part) = std_run.get(skip..) else {
                continue;
            };
            let usable = part.len() - part.len() % 4;
            let Some(part) = part.get(..usable) else {
                continue;
            };
            if let Ok(d) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(part) {
                out.push(d);
            }
        }
        if out.len() > 256 {
            break;
        }
    }
    out
}

fn hex_runs(lower: &[u8]) -> Vec<Vec<u8>> {
    lower
        .split(|c| !c.is_ascii_hexdigit())
        .filter(|r| r.len() >= 12)
        .take(256)
        .filter_map(|r| {
            let even = r.get(..r.len() - r.len() % 2)?;
            hex::decode(even).ok()
        })
        .collect()
}

fn base32_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    if s.len() < 16 {
        return None;
    }
    let mut bits: u64 = 0;
    let mut n = 0u32;
    let mut out = Vec::new();
    for c in s.bytes() {
        let c = c.to_ascii_uppercase();
        if c == b'=' {
            break;
        }
        let v = ALPHA.iter().position(|a| *a == c)? as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push(((bits >> n) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary() -> Vec<Canary> {
        vec![Canary {
            label: "npm-token".into(),
            planted: "~/.npmrc".into(),
            value: "npm_AbCdEf0123456789xyz".into(),
        }]
    }

    #[test]
    fn finds_raw_hex_base64_url() {
        let c = canary();
        assert_eq!(
            find_canaries(b"x npm_AbCdEf0123456789xyz y", &c)[0].encoding,
            "raw"
        );
        let h = hex::encode("npm_AbCdEf0123456789xyz");
        assert_eq!(
            find_canaries(format!("d={h}").as_bytes(), &c)[0].encoding,
            "hex"
        );
        let b = base64::engine::general_purpose::STANDARD
            .encode(r#"{"tok":"npm_AbCdEf0123456789xyz"}"#);
        assert_eq!(
            find_canaries(format!("POST /\r\n\r\n{b}").as_bytes(), &c)[0].encoding,
            "base64"
        );
        assert_eq!(
            find_canaries(b"GET /?t=npm%5FAbCdEf0123456789xyz", &c)[0].encoding,
            "url-encoded"
        );
        assert!(find_canaries(b"nothing to see npm_AbCdEf", &c).is_empty());
    }

    #[test]
    fn finds_dns_label_hex() {
        let c = canary();
        let h = hex::encode("npm_AbCdEf0123456789xyz");
        let (a, b) = h.split_at(20);
        let name = format!("{a}.{b}.exfil.example.test");
        let hits = find_canaries_in_dns(&name, &c);
        assert_eq!(hits[0].encoding, "dns-labels/hex");
        assert!(find_canaries_in_dns("www.example.test", &c).is_empty());
    }

    #[test]
    fn bait_values_differ_per_run() {
        let mut r1 = Rng::new();
        let a = make_bait(&mut r1);
        let b = make_bait(&mut r1);
        assert_ne!(a.hostname, b.hostname);
        assert_ne!(a.canaries[1].value, b.canaries[1].value);
    }
}
