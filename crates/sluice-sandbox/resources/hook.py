"""sluice application-layer probe for CPython (PEP 578 audit hook).

Shipped inside the sluice binary and dropped into the sandbox's venv with a
.pth file, so it is active in every Python process started from that
interpreter, including pip's PEP 517 build subprocesses (which replace
PYTHONPATH). Writes one JSON object per line to a file whose path the
sandbox bakes in when it writes this file (no environment variable, so a
child started with a cleared environment still reports).
It observes only; it never blocks, and it is not a security boundary
(the system layer outside the runtime is).
"""
import os
import sys
import threading
import json
import sysconfig
import time

_OUT = "@@EVENTS@@"
_PHASE = "?"
_tls = threading.local()

# Paths whose frames are "plumbing", never the culprit.
_STDLIB = tuple(
    os.path.realpath(p) + os.sep
    for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)
_SELF = os.path.realpath(__file__)
_SELF_DIR = os.path.dirname(_SELF) + os.sep
_RES_DIR = "@@RESDIR@@" + os.sep
_BIN = os.path.join(sys.prefix, "bin") + os.sep
_TOOLING = (os.sep + "pip" + os.sep, os.sep + "setuptools" + os.sep,
            os.sep + "_distutils_hack" + os.sep, os.sep + "pyproject_hooks" + os.sep,
            os.sep + "wheel" + os.sep, os.sep + "pkg_resources" + os.sep)
# Build back ends in the dependency profile run on the package's behalf,
# like setuptools: their frames are tooling (setuptools-scm asking git for
# a version is not the package's doing).
_BACKENDS = tuple(os.sep + b + os.sep for b in (
    "setuptools_scm", "vcs_versioning", "hatchling", "hatch_vcs", "flit_core",
    "flit_scm", "poetry" + os.sep + "core", "pdm" + os.sep + "backend",
    "hatch_fancy_pypi_readme"))
# The package's own tree, wherever it is being built: never tooling, even
# if it ships a folder named `setuptools` or `pip`.
_OWN_TREE = (os.sep + "pip-req-build-", os.sep + "pip-install-", os.sep + "Downloads" + os.sep)
# The dependency profile (requests, cryptography, ...): their frames are
# where something happened, never the culprit; the package frame that
# called into them is.
_DEPS = "@@DEPS@@"
_DEPS = (os.path.realpath(_DEPS) + os.sep) if _DEPS else None
# Look like Windows to package code only (os.name, platform.system(),
# os.startfile, pywin32-style modules), so payloads gated on Windows run.
_WINDOWS = "@@WINDOWS@@" == "1"

_SENSITIVE = ("/.ssh/", "/.aws/", "/.npmrc", "/.pypirc", "/.git-credentials",
              "/.netrc", "/.docker/config.json", "/.kube/config", "/etc/shadow",
              "/etc/passwd", "/.bash_history", "/.gnupg/", "/.config/gcloud/",
              "/.env", "Login Data", "/Cookies", "Local State", "/key4.db",
              "/logins.json", "/cookies.sqlite", "/Local Storage/leveldb",
              "/TelegramDesktop/", "/tdata", ".session", "/.electrum/", "/Exodus/",
              "exodus.wallet", "/.bitcoin/", "/atomic/", "/Ethereum/keystore",
              "/wallet.dat", "/.zsh_history", "/Web Data", "/History")
# Files whose writing is a Windows payload being dropped.
_WIN_EXEC = (".exe", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".scr", ".dll",
             ".hta", ".lnk", ".msi", ".jse", ".wsf", ".pif", ".com")
_PERSIST = ("/.bashrc", "/.profile", "/.zshrc", "/crontab", "/cron.d/",
            "/systemd/", "/autostart/", ".pth", "sitecustomize.py", "usercustomize.py")

_ALWAYS = {
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "pty.spawn", "os.fork", "os.forkpty",
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "socket.bind",
    "urllib.Request", "http.client.connect", "http.client.send",
    "smtplib.connect", "ftplib.connect", "webbrowser.open",
    "ctypes.dlopen", "os.putenv", "os.unsetenv", "socket.gethostname",
    "os.remove", "os.rename", "shutil.copyfile",
    "os.kill", "os.chmod", "shutil.rmtree", "sys.addaudithook",
}

# Recorded even when only tooling is on the stack: the system layer joins
# its execs and connects to these to tell tooling from the unexplained.
_TOOLING_OK = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
               "os.spawn", "pty.spawn", "socket.connect", "socket.getaddrinfo"}

_fd = None


_kind_cache = {}


def _classify(path):
    k = _kind_cache.get(path)
    if k is None:
        k = _kind_cache[path] = _classify_uncached(path)
    return k


def _classify_uncached(path):
    rp = os.path.realpath(path) if path and not path.startswith("<") else (path or "")
    if rp == _SELF or rp.startswith(_RES_DIR):
        return "hook"
    if rp.startswith(_STDLIB) and "site-packages" not in rp:
        return "stdlib"
    if any(t in rp for t in _OWN_TREE):
        return "pkg"
    if any(t in rp for t in _TOOLING) or rp.startswith(_BIN) or rp == "<pip-setuptools-caller>":
        return "tooling"
    if rp.startswith("<frozen"):
        return "stdlib"
    if _DEPS and rp.startswith(_DEPS):
        return "tooling" if any(b in rp for b in _BACKENDS) else "dep"
    return "pkg"


def _where(f):
    fn = f.f_code.co_filename
    if fn.startswith("<") and not fn.startswith("<frozen"):
        # exec'd source: name the file whose globals it ran in
        host = f.f_globals.get("__file__")
        if host:
            fn = "%s@%s" % (fn, host)
    return "%s:%d:%s" % (fn, f.f_lineno, f.f_code.co_name)


def _stack(skip=3):
    """Return (culprit, chain, direct, via).

    culprit: first package frame walking outward from the frame that raised
    the event; chain: all package frames (innermost first); direct: True when
    no build tooling (pip/setuptools) sits between the culprit and the event
    (a dependency the package called does not count: that is its doing);
    via: the innermost dependency frame, when the event happened inside one.
    """
    f = sys._getframe(skip)  # 0=_stack, 1=_hook... caller decides
    chain, direct, seen_tooling, via = [], None, False, None
    while f is not None and len(chain) < 12:
        kind = _classify(f.f_code.co_filename)
        if (kind == "pkg" and f.f_back is None and f.f_code.co_filename.startswith("<")
                and "__file__" not in f.f_globals):
            kind = "tooling"  # the outermost `python -c` code: pip's shim
        if kind == "pkg":
            if direct is None:
                direct = not seen_tooling
            chain.append(_where(f))
        elif kind == "dep":
            if via is None and not chain:
                via = _where(f)
        elif kind == "tooling" and direct is None:
            seen_tooling = True
        f = f.f_back
    return (chain[0] if chain else None), chain, bool(direct), via


def _short(a, n=400):
    try:
        if isinstance(a, (bytes, bytearray)):
            a = a[:n].decode("utf-8", "replace")
        s = a if isinstance(a, str) else repr(a)
    except Exception:
        s = "<unrepr>"
    return s[:n]


def _interesting(event, args):
    if event in _ALWAYS:
        return True
    if event == "open":
        path = args[0]
        if not isinstance(path, (str, bytes)):
            return False
        p = os.fsdecode(path)
        mode = args[1] if len(args) > 1 else "r"
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        if isinstance(args[2] if len(args) > 2 else 0, int) and (args[2] & (os.O_WRONLY | os.O_RDWR)):
            writing = True
        if any(s in p for s in _SENSITIVE):
            return True
        return writing and (any(s in p for s in _PERSIST) or p.lower().endswith(_WIN_EXEC))
    if event in ("exec", "compile", "marshal.loads"):
        return True  # filtered later: only when a package frame is on the stack
    return False


def _hook(event, args):
    if getattr(_tls, "busy", False):
        return
    _tls.busy = True
    try:
        if not _interesting(event, args):
            return
        if event in ("exec", "compile", "marshal.loads"):
            # only dynamic code that package code itself asked for (cheap test first)
            if _classify(sys._getframe(1).f_code.co_filename) != "pkg":
                return
        culprit, chain, direct, via = _stack(2)
        if culprit is None and event not in _TOOLING_OK:
            return  # files, env, dynamic code: only the package's own doings
        if event in ("exec", "compile", "marshal.loads"):
            if culprit is None or not direct:
                return
            if event == "compile":
                fname = args[1] if len(args) > 1 else None
                # import machinery compiles real files; only dynamic code matters
                if isinstance(fname, (str, bytes)) and not os.fsdecode(fname).startswith("<"):
                    return
            if event == "exec":
                code = args[0]
                if getattr(code, "co_filename", "<").startswith("/"):
                    return
        shown = [_short(a, 4000 if event == "compile" else 400) for a in args]
        if event == "os.kill" and len(args) > 1 and isinstance(args[0], int):
            # whose process: the installer that ran us, every process, a
            # process group, or one of our own children (a timeout's kill)
            pid = args[0]
            shown.append("parent" if pid == os.getppid() else "all" if pid == -1
                         else "group" if pid <= 0 else "self" if pid == os.getpid() else "other")
        rec = {
            "pid": os.getpid(), "ppid": os.getppid(), "phase": _PHASE,
            "t": time.time(), "event": event,
            "args": shown,
            "culprit": culprit, "direct": direct, "chain": chain, "via": via,
            "argv0": _short(sys.argv[0] if sys.argv else "", 120),
        }
        line = (json.dumps(rec) + "\n").encode()
        os.write(_fd, line)
    except Exception:
        pass
    finally:
        _tls.busy = False


_SECRET_KEYS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY",
                "AWS_", "GITHUB", "NPM_", "PYPI", "CREDENTIAL", "PRIVATE",
                "USER", "LOGNAME", "HOSTNAME")


def _emit_env(key, how):
    if getattr(_tls, "busy", False):
        return
    _tls.busy = True
    try:
        # the frame that touched os.environ, skipping the mapping plumbing
        f = sys._getframe(3)
        while f is not None and os.path.basename(f.f_code.co_filename) in ("os.py", "_collections_abc.py"):
            f = f.f_back
        if key in ("USER", "LOGNAME", "USERNAME"):
            # getpass.getuser() reads these for the package: look past it
            while f is not None and os.path.basename(f.f_code.co_filename) == "getpass.py":
                f = f.f_back
        if f is None or _classify(f.f_code.co_filename) != "pkg":
            return  # stdlib/tooling reading env on its own behalf
        culprit, chain, direct, via = _stack(3)
        if culprit is None:
            return
        rec = {"t": time.time(), "pid": os.getpid(), "ppid": os.getppid(), "phase": _PHASE,
               "event": "venv.env." + how, "args": [key], "culprit": culprit,
               "direct": direct, "chain": chain, "via": via, "argv0": ""}
        os.write(_fd, (json.dumps(rec) + "\n").encode())
    except Exception:
        pass
    finally:
        _tls.busy = False


def _watch_environ():
    """os.environ reads raise no audit event; wrap the mapping class."""
    cls = type(os.environ)
    orig_get = cls.__getitem__
    orig_iter = cls.__iter__

    def __getitem__(self, key):
        if isinstance(key, str) and any(k in key.upper() for k in _SECRET_KEYS):
            _emit_env(key, "read")
        return orig_get(self, key)

    def __iter__(self):
        _emit_env("*", "enumerate")
        return orig_iter(self)

    cls.__getitem__ = __getitem__   # os.environ.get() goes through this too
    cls.__iter__ = __iter__         # dict(os.environ), .items(), .copy()


def _emit(event, args, skip=3):
    """Record a synthetic event (Windows API use, a missing import) raised
    by package code; `skip` frames up is the caller."""
    if getattr(_tls, "busy", False):
        return
    _tls.busy = True
    try:
        culprit, chain, direct, via = _stack(skip)
        if culprit is None:
            return
        rec = {"t": time.time(), "pid": os.getpid(), "ppid": os.getppid(), "phase": _PHASE,
               "event": event, "args": [_short(a, 400) for a in args], "culprit": culprit,
               "direct": direct, "chain": chain, "via": via,
               "argv0": _short(sys.argv[0] if sys.argv else "", 120)}
        os.write(_fd, (json.dumps(rec) + "\n").encode())
    except Exception:
        pass
    finally:
        _tls.busy = False


def _caller_is_pkg(depth=2):
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith("<frozen importlib"):
        f = f.f_back
    return f is not None and _classify(f.f_code.co_filename) == "pkg"


class _Win(object):
    """A pywin32-style object: every call is recorded with the package line
    that made it and answers another such object, so the payload goes on."""
    __slots__ = ("_n",)

    def __init__(self, n):
        object.__setattr__(self, "_n", n)

    def __getattr__(self, k):
        if k.startswith("__"):
            raise AttributeError(k)
        return _Win(self._n + "." + k)

    def __setattr__(self, k, v):
        # declaring a prototype (argtypes, restype, errcheck) is not a call
        if k not in ("argtypes", "restype", "errcheck"):
            _emit("venv.win", (self._n + "." + k, v))

    def __call__(self, *a, **kw):
        _emit("venv.win", (self._n,) + a + tuple(kw.values()))
        return _Win(self._n + "()")

    def __getitem__(self, i):
        return _Win("%s[%r]" % (self._n, i))

    def __iter__(self):
        return iter((_Win(self._n + "[0]"), _Win(self._n + "[1]")))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def __bool__(self):
        return True

    def __int__(self):
        return 0

    __index__ = __int__

    def __len__(self):
        return 0

    def __str__(self):
        return ""

    def __bytes__(self):
        return b""

    def __fspath__(self):
        return os.path.join(os.environ.get("TEMP", "/tmp"), "x")

    def __repr__(self):
        return "<%s>" % self._n


_WIN_MODULES = {
    "winreg", "_winreg", "msvcrt", "winsound", "_winapi", "nt",
    "win32api", "win32con", "win32crypt", "win32clipboard", "win32gui", "win32file",
    "win32process", "win32security", "win32service", "win32event", "win32pipe",
    "win32ui", "win32net", "win32ts", "win32cred", "win32job", "win32print",
    "win32com", "pythoncom", "pywintypes", "wmi", "winshell", "ntsecuritycon",
    "win32timezone", "win32profile", "win32pdh", "win32evtlog", "comtypes",
}


class _StubLoader(object):
    def create_module(self, spec):
        import types
        m = types.ModuleType(spec.name)
        m.__path__ = []
        name = spec.name

        def __getattr__(k):
            if k.startswith("__"):
                raise AttributeError(k)
            return _Win(name + "." + k)
        m.__getattr__ = __getattr__
        return m

    def exec_module(self, module):
        pass


# Python 2 module names old payloads still import: served as their Python 3
# successors so the payload goes on (the code must still parse as Python 3).
_PY2 = {
    "urllib2": ("urllib.request", "urllib.error"), "urlparse": ("urllib.parse",),
    "httplib": ("http.client",), "cookielib": ("http.cookiejar",),
    "StringIO": ("io",), "cStringIO": ("io",), "Queue": ("queue",),
    "ConfigParser": ("configparser",), "commands": ("subprocess",),
}


class _AliasLoader(object):
    def __init__(self, targets):
        self.targets = targets

    def create_module(self, spec):
        import types
        import importlib
        m = types.ModuleType(spec.name)
        for t in self.targets:
            src = importlib.import_module(t)
            for k in dir(src):
                if not k.startswith("__"):
                    setattr(m, k, getattr(src, k))
        return m

    def exec_module(self, module):
        pass


class _LastFinder(object):
    """Last on sys.meta_path: a module nothing else could find. Windows-only
    modules asked for by package code get a recording stand-in; any other
    missing module that package code asked for is recorded (an attempt the
    sandbox could not follow) before the ImportError."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if getattr(_tls, "busy", False) or not _caller_is_pkg(2):
            return None
        top = name.partition(".")[0]
        if _WINDOWS and top in _WIN_MODULES:
            import importlib.machinery
            _emit("venv.win", ("import " + name,), 3)
            return importlib.machinery.ModuleSpec(name, _StubLoader(), is_package=True)
        if name in _PY2:
            import importlib.machinery
            return importlib.machinery.ModuleSpec(name, _AliasLoader(_PY2[name]))
        _emit("venv.import-missing", (name,), 3)
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def _windows_persona():
    real_name = os.name
    os_mod = sys.modules["os"]
    try:
        del os_mod.name
    except AttributeError:
        return

    def __getattr__(k):
        if k == "name":
            return "nt" if _caller_is_pkg(2) else real_name
        raise AttributeError("module 'os' has no attribute %r" % k)
    os_mod.__getattr__ = __getattr__

    real_platform = sys.platform
    try:
        del sys.platform

        def sys_getattr(k):
            if k == "platform":
                return "win32" if _caller_is_pkg(2) else real_platform
            raise AttributeError("module 'sys' has no attribute %r" % k)
        sys.__getattr__ = sys_getattr
    except (AttributeError, TypeError):
        pass

    # Windows-only names payloads pass to subprocess; on this system the
    # flags would make Popen refuse, so they are recorded and dropped.
    import subprocess
    for k, v in (("CREATE_NEW_CONSOLE", 0x10), ("CREATE_NEW_PROCESS_GROUP", 0x200),
                 ("CREATE_NO_WINDOW", 0x08000000), ("DETACHED_PROCESS", 0x8),
                 ("STARTF_USESHOWWINDOW", 0x1), ("STARTF_USESTDHANDLES", 0x100),
                 ("SW_HIDE", 0), ("HIGH_PRIORITY_CLASS", 0x80),
                 ("BELOW_NORMAL_PRIORITY_CLASS", 0x4000)):
        if not hasattr(subprocess, k):
            setattr(subprocess, k, v)
    if not hasattr(subprocess, "STARTUPINFO"):
        class STARTUPINFO(object):
            def __init__(self, **kw):
                self.dwFlags = 0
                self.wShowWindow = 0
                self.__dict__.update(kw)
        subprocess.STARTUPINFO = STARTUPINFO
    real_init = subprocess.Popen.__init__

    def popen_init(self, *a, **kw):
        flags = kw.pop("creationflags", 0)
        info = kw.pop("startupinfo", None)
        if (flags or info is not None) and _caller_is_pkg(2):
            _emit("venv.win", ("subprocess.Popen(creationflags=%r)" % (flags,),) + a[:1])
        return real_init(self, *a, **kw)
    subprocess.Popen.__init__ = popen_init

    def startfile(path, *a, **kw):
        _emit("venv.win", ("os.startfile", path) + a)
    os_mod.startfile = startfile

    import platform
    real_system = platform.system

    def system():
        return "Windows" if _caller_is_pkg(2) else real_system()
    platform.system = system
    try:
        import ctypes
        for n in ("windll", "oledll", "WinDLL", "OleDLL", "WINFUNCTYPE", "FormatError",
                  "GetLastError", "WinError"):
            if not hasattr(ctypes, n):
                setattr(ctypes, n, _Win("ctypes." + n))
    except Exception:
        pass


def _login_fallback():
    """os.getlogin() reads the login record; where the kernel gives none,
    answer as a logged-in shell would (the account's name)."""
    try:
        os.getlogin()
        return
    except OSError:
        pass
    import pwd
    real = os.getlogin

    def getlogin():
        try:
            return real()
        except OSError:
            return pwd.getpwuid(os.getuid()).pw_name
    os.getlogin = getlogin


def _install():
    global _fd
    if not _OUT:
        return
    _fd = os.open(_OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    sys.addaudithook(_hook)
    _watch_environ()
    sys.meta_path.append(_LastFinder)
    # What the hook itself imports and loads (ctypes, pwd) is not the
    # package's doing.
    _tls.busy = True
    try:
        _login_fallback()
        if _WINDOWS:
            _windows_persona()
    finally:
        _tls.busy = False


_install()
