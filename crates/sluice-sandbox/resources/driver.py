"""sluice in-sandbox driver for the Python import and execute phases.

Shipped inside the sluice binary and run only inside the sandbox. The audit
hook treats frames of this file as its own, so what the driver does is
never blamed on the package.

  driver.py install FILE        pip install FILE offline (no index, no deps)
  driver.py import-all SITE     import every top-level module of every
                                distribution installed in SITE, each in a
                                fresh interpreter
  driver.py import-one MODULE   (internal) import one module
  driver.py execute SITE        run every console script with --help
"""
import importlib
import importlib.metadata as md
import os
import subprocess
import sys
import threading
import time

PER_CALL_TIMEOUT = 30


def dists(site):
    out = []
    for d in md.distributions(path=[site]):
        p = getattr(d, "_path", None)
        # pip, setuptools and wheel are symlinked in by the sandbox: tooling
        if p is not None and os.path.islink(str(p)):
            continue
        out.append(d)
    return out


def top_modules(d):
    mods = set()
    txt = d.read_text("top_level.txt")
    if txt:
        mods.update(l.strip() for l in txt.splitlines() if l.strip())
    if not mods:
        for f in d.files or []:
            parts = f.parts
            if not parts:
                continue
            first = parts[0]
            if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".pth", ".data")):
                continue
            if first.endswith(".py"):
                mods.add(first[:-3])
            elif len(parts) > 1:
                mods.add(first)
    return sorted(m for m in mods if m.isidentifier())


def run(argv):
    print("[driver] run", argv, flush=True)
    try:
        r = subprocess.run(argv, timeout=PER_CALL_TIMEOUT, stdin=subprocess.DEVNULL)
        print("[driver] exit", r.returncode, flush=True)
    except subprocess.TimeoutExpired:
        print("[driver] timeout", argv, flush=True)
    except OSError as e:
        print("[driver] error", e, flush=True)


def install(path):
    base = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps",
            "--no-build-isolation", "--no-cache-dir", "--no-input",
            "--disable-pip-version-check", "--progress-bar", "off",
            # a `Requires-Python` that excludes this interpreter must not
            # stop the install before the package's code runs
            "--ignore-requires-python"]
    try:
        import wheel  # noqa: F401  (PEP 517 builds with setuptools need it)
        has_wheel = True
    except ImportError:
        has_wheel = False
    if path.endswith(".whl") or has_wheel:
        sys.exit(subprocess.call(base + [path], stdin=subprocess.DEVNULL))
    # pip >= 23.1 cannot build an sdist without `wheel`, and there is no
    # index to fetch it from: run setup.py the way pip's legacy path did
    # (setup.py still runs, which is what we watch).
    sys.exit(legacy_install(path))


def legacy_install(path):
    import random
    import string
    import tarfile
    import zipfile
    tag = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    build = os.path.join(os.environ.get("TMPDIR", "/tmp"), "pip-req-build-" + tag)
    if os.path.isdir(path):
        root = path
    else:
        os.makedirs(build)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for n in z.namelist():
                    if n.startswith("/") or ".." in n.split("/"):
                        print("[driver] unsafe path in archive:", n, file=sys.stderr)
                        return 3
                z.extractall(build)
        else:
            with tarfile.open(path) as t:
                t.extractall(build, filter="data")
        entries = os.listdir(build)
        root = build
        if len(entries) == 1 and os.path.isdir(os.path.join(build, entries[0])):
            # like pip: the project's own folder becomes pip-req-build-*
            os.rename(build, build + ".x")
            os.rename(os.path.join(build + ".x", entries[0]), build)
            os.rmdir(build + ".x")
    if not os.path.isfile(os.path.join(root, "setup.py")):
        print("[driver] no setup.py and no `wheel` package: cannot build offline", file=sys.stderr)
        return 3
    record = os.path.join(build if os.path.isdir(build) else "/tmp", "install-record.txt")
    return subprocess.call(
        [sys.executable, "setup.py", "-q", "install", "--single-version-externally-managed",
         "--record", record],
        cwd=root, stdin=subprocess.DEVNULL)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "install":
        install(sys.argv[2])
    elif mode == "import-all":
        for d in dists(sys.argv[2]):
            for m in top_modules(d):
                run([sys.executable, os.path.abspath(__file__), "import-one", m])
    elif mode == "import-one":
        importlib.import_module(sys.argv[2])
        # give background threads started at import a moment to act
        if threading.active_count() > 1:
            time.sleep(1.0)
    elif mode == "execute":
        bindir = os.path.dirname(sys.executable)
        for d in dists(sys.argv[2]):
            for ep in d.entry_points:
                if ep.group in ("console_scripts", "gui_scripts"):
                    run([os.path.join(bindir, ep.name), "--help"])
    else:
        print("usage: driver.py import-all|import-one|execute ARG", file=sys.stderr)
        sys.exit(2)


main()
