#!/usr/bin/env python3
"""A tiny fake npm registry and PyPI simple index on 127.0.0.1, for making
real lockfiles with the real tools (bench/make-lockfiles.sh) without
touching a public registry.

Serves a fixed small package universe (PACKAGES below):
  npm:   GET /<name> (packument), GET /<name>/-/<file>.tgz (tarball)
  PyPI:  GET /simple/<name>/ (PEP 503 page), GET /files/<file>.whl (wheel)
Archives are built in memory, byte-for-byte deterministic, so integrity
hashes in the generated lockfiles are stable between runs.

Usage: fake-registry.py PORT   (prints "ready" when listening)
"""

import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# npm packages: name -> {version: {"dependencies": {...}, "peerDependencies": {...}}}
NPM = {
    "left-pad": {"1.3.0": {}},
    "@acme/util": {"1.0.0": {"dependencies": {"left-pad": "^1.3.0"}}},
    "ansi-stylez": {"1.0.0": {}, "2.0.0": {}},
    "chalkish": {"2.0.0": {"dependencies": {"ansi-stylez": "^1.0.0"}}},
    "expresss": {"4.18.2": {"dependencies": {"left-pad": "^1.3.0"}}},
    "test-thing": {"0.1.0": {"dependencies": {"chalkish": "^2.0.0"}}},
    "host-y": {"1.0.0": {}},
    "plugin-x": {"1.0.0": {"peerDependencies": {"host-y": "^1.0.0"}}},
    "acme-internal-auth": {"9.9.9": {}},
}

# PyPI packages: name -> {version: [Requires-Dist, ...]}
PYPI = {
    "alpha": {"1.0.0": ["beta>=1.0"]},
    "beta": {"1.0.0": [], "1.1.0": []},
    "six": {"1.16.0": []},
    "reqeusts": {"2.31.0": ["six"]},
    "acme-internal-auth": {"9.9.9": []},
    "gamma-lib": {"0.3.0": ["beta"]},
}

PORT = 0


def _deterministic_tar(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    gz = io.BytesIO()
    import gzip

    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(raw.getvalue())
    return gz.getvalue()


def npm_tarball(name, version):
    meta = {"name": name, "version": version, "main": "index.js"}
    meta.update(NPM[name][version])
    files = [
        ("package/package.json", json.dumps(meta, indent=2).encode()),
        ("package/index.js", b"module.exports = function () { return 1; };\n"),
    ]
    return _deterministic_tar(files)


def npm_file(name, version):
    return f"{name.split('/')[-1]}-{version}.tgz"


def packument(name):
    versions = {}
    for v, extra in NPM[name].items():
        data = npm_tarball(name, v)
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        doc = {"name": name, "version": v}
        doc.update(extra)
        doc["dist"] = {
            "tarball": f"http://127.0.0.1:{PORT}/{name}/-/{npm_file(name, v)}",
            "integrity": integrity,
            "shasum": hashlib.sha1(data).hexdigest(),
        }
        versions[v] = doc
    latest = sorted(versions, key=lambda s: [int(x) for x in s.split(".")])[-1]
    return {"name": name, "dist-tags": {"latest": latest}, "versions": versions}


def wheel(name, version):
    dist = re.sub(r"[-_.]+", "_", name)
    mod = dist
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    for r in PYPI[name][version]:
        meta += f"Requires-Dist: {r}\n"
    files = {
        f"{mod}/__init__.py": b"VALUE = 1\n",
        f"{info}/METADATA": meta.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: fake-registry\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for p, data in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{p},sha256={h},{len(data)}\n"
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p, data in files.items():
            zi = zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(zi, data)
    return out.getvalue()


def wheel_file(name, version):
    return f"{re.sub(r'[-_.]+', '_', name)}-{version}-py3-none-any.whl"


def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    head = False

    def send(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not self.head:
            self.wfile.write(body)

    def do_HEAD(self):
        self.head = True
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.unquote(self.path.split("?")[0])
        if path.startswith("/simple/"):
            name = norm(path[len("/simple/"):].strip("/"))
            if name not in PYPI:
                return self.send(404, b"not found", "text/plain")
            links = ""
            for v in PYPI[name]:
                f = wheel_file(name, v)
                h = hashlib.sha256(wheel(name, v)).hexdigest()
                links += f'<a href="/files/{f}#sha256={h}">{f}</a>\n'
            body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
            return self.send(200, body, "text/html")
        if path.startswith("/files/"):
            f = path[len("/files/"):]
            for name, vs in PYPI.items():
                for v in vs:
                    if wheel_file(name, v) == f:
                        return self.send(200, wheel(name, v), "application/octet-stream")
            return self.send(404, b"not found", "text/plain")
        if "/-/" in path:
            name, f = path.lstrip("/").split("/-/", 1)
            for v in NPM.get(name, {}):
                if npm_file(name, v) == f:
                    return self.send(200, npm_tarball(name, v), "application/octet-stream")
            return self.send(404, b"not found", "text/plain")
        name = path.lstrip("/")
        if name in NPM:
            return self.send(200, json.dumps(packument(name)).encode(), "application/json")
        return self.send(404, json.dumps({"error": "not found"}).encode(), "application/json")


def main():
    global PORT
    PORT = int(sys.argv[1])
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
