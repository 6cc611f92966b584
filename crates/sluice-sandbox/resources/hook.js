'use strict';
// sluice application-layer probe for Node.js. Shipped inside the sluice
// binary and loaded into every node process in the sandbox (npm itself,
// lifecycle-script children, the import phase) through
// NODE_OPTIONS="--require /path/hook.js". Writes JSON lines to a file whose
// path the sandbox bakes in, with the package file:line behind each
// behaviour. It observes only and is not a security boundary.
const fs = require('fs');
const path = require('path');
const OUT = '@@EVENTS@@';
const RES_DIR = '@@RESDIR@@/';
if (OUT && !global['@@GUARD@@']) {
  Object.defineProperty(global, '@@GUARD@@', { value: true });
  const SELF = __filename;
  const fd = fs.openSync(OUT, 'a');
  const writeSync = fs.writeSync;           // keep originals before patching
  const lifecycle = {                       // set by npm for script children
    pkg: process.env.npm_package_name || null,
    event: process.env.npm_lifecycle_event || null,
  };
  let busy = false;

  function callsites() {
    const prep = Error.prepareStackTrace, lim = Error.stackTraceLimit;
    Error.prepareStackTrace = (_e, cs) => cs;
    Error.stackTraceLimit = 40;
    const holder = {};
    Error.captureStackTrace(holder, callsites);
    const cs = holder.stack;
    Error.prepareStackTrace = prep; Error.stackTraceLimit = lim;
    return Array.isArray(cs) ? cs : [];
  }

  function classify(file) {
    if (!file || file === SELF || file.startsWith(RES_DIR)) return 'hook';
    if (file.startsWith('node:') || !file.includes('/')) return 'node';
    if (file.includes('/lib/node_modules/npm/')) return 'tooling';
    return 'pkg';
  }

  function pkgOf(file) {
    const i = file.lastIndexOf('/node_modules/');
    if (i < 0) return null;
    const rest = file.slice(i + 14).split('/');
    return rest[0].startsWith('@') ? rest[0] + '/' + rest[1] : rest[0];
  }

  function emit(api, args) {
    if (busy) return;
    busy = true;
    try {
      const chain = [];
      let direct = null, sawTooling = false;
      const sites = callsites();
      // env reads done by node internals on the package's behalf (e.g. spawn
      // copying the environment) are noise: require a package frame first
      if (api === 'process.env.enumerate') {
        const first = sites.slice(2).find((c) => c.getFileName());   // JSON.stringify etc. are builtins
        if (classify(first && first.getFileName()) !== 'pkg') return;
      } else if (api === 'process.env.get') {
        // a direct read by package code; per-key reads made by a builtin
        // walking the whole env (JSON.stringify, spread) are covered by enumerate
        if (classify(sites[2] && sites[2].getFileName()) !== 'pkg') return;
      }
      for (const c of sites) {
        const file = c.getFileName();
        const k = classify(file);
        if (k === 'pkg') {
          if (direct === null) direct = !sawTooling;
          chain.push(`${file}:${c.getLineNumber()}:${c.getColumnNumber()}`);
        } else if (k === 'tooling' && direct === null) sawTooling = true;
        if (chain.length >= 10) break;
      }
      const culprit = chain[0] || null;
      const rec = {
        t: Date.now() / 1000,
        pid: process.pid, ppid: process.ppid, api,
        args: args.map((a) => {
          try { return (typeof a === 'string' ? a : JSON.stringify(a)).slice(0, 4000); }
          catch (_) { return String(a).slice(0, 300); }
        }),
        culprit, package: culprit ? pkgOf(culprit.split(':')[0]) : null,
        direct: !!direct, chain, lifecycle,
      };
      writeSync(fd, JSON.stringify(rec) + '\n');
    } catch (_) { /* never break the host program */ } finally { busy = false; }
  }

  // Like emit, for events whose call chain comes from elsewhere (the
  // inspector's stack of a dynamic script).
  function emitAt(api, args, chain) {
    if (busy || !chain.length) return;
    busy = true;
    try {
      const culprit = chain[0];
      const rec = {
        t: Date.now() / 1000, pid: process.pid, ppid: process.ppid, api,
        args: args.map((a) => String(a).slice(0, 4000)),
        culprit, package: pkgOf(culprit.split(':')[0]), direct: true, chain, lifecycle,
      };
      writeSync(fd, JSON.stringify(rec) + '\n');
    } catch (_) { /* never break the host program */ } finally { busy = false; }
  }

  function wrap(obj, name, label, pick) {
    const orig = obj[name];
    if (typeof orig !== 'function') return;
    const w = function (...a) {
      emit(label, pick ? pick(a) : a.slice(0, 2));
      return new.target ? Reflect.construct(orig, a, new.target) : orig.apply(this, a);
    };
    Object.defineProperty(w, 'name', { value: orig.name });
    obj[name] = w;
  }

  // --- processes ---------------------------------------------------------
  const cp = require('child_process');
  for (const n of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    wrap(cp, n, 'child_process.' + n, (a) => {
      const opts = a.find((x) => x && typeof x === 'object' && !Array.isArray(x)) || {};
      const env = opts.env || {};
      return [a[0], Array.isArray(a[1]) ? a[1] : undefined,
        env.npm_lifecycle_event ? { lifecycle: env.npm_lifecycle_event, pkg: env.npm_package_name, cwd: opts.cwd } : undefined];
    });
  }
  // --- network -------------------------------------------------------------
  const net = require('net');
  const origConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...a) {
    const o = a[0];
    const target = (o && typeof o === 'object')
      ? (Array.isArray(o) ? o[0] : o) : { port: a[0], host: a[1] };
    emit('net.connect', [{ host: target.host || target.path, port: target.port, servername: target.servername }]);
    return origConnect.apply(this, a);
  };
  const dns = require('dns');
  for (const n of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveTxt', 'resolveAny', 'resolveCname']) {
    wrap(dns, n, 'dns.' + n, (a) => [a[0]]);
    if (dns.promises) wrap(dns.promises, n, 'dns.promises.' + n, (a) => [a[0]]);
  }
  for (const modName of ['http', 'https']) {
    const m = require(modName);
    for (const n of ['request', 'get']) {
      wrap(m, n, modName + '.' + n, (a) => [typeof a[0] === 'string' || a[0] instanceof URL ? String(a[0])
        : { host: a[0] && (a[0].hostname || a[0].host), path: a[0] && a[0].path, method: a[0] && a[0].method }]);
    }
  }
  // --- files: only secrets and persistence points ---------------------------
  const SENSITIVE = /\/\.ssh\/|\/\.aws\/|\/\.npmrc|\/\.pypirc|\/\.git-credentials|\/\.netrc|\/\.docker\/config\.json|\/\.kube\/config|\/etc\/shadow|\/etc\/passwd|\/\.bash_history|\/\.gnupg\/|\/\.env$/;
  const PERSIST = /\/\.bashrc|\/\.profile|\/\.zshrc|cron|\/systemd\/|\/autostart\/|\.pth$/;
  const fileApi = (label, write) => (a) => {
    const p = typeof a[0] === 'string' ? a[0] : (a[0] && a[0].toString ? a[0].toString() : '');
    return [p];
  };
  const watchFs = (obj, prefix) => {
    for (const [n, write] of [['readFile', 0], ['readFileSync', 0], ['open', 0], ['openSync', 0],
      ['createReadStream', 0], ['writeFile', 1], ['writeFileSync', 1], ['appendFile', 1],
      ['appendFileSync', 1], ['createWriteStream', 1]]) {
      const orig = obj[n];
      if (typeof orig !== 'function') continue;
      obj[n] = function (...a) {
        const p = String(a[0]);
        if (SENSITIVE.test(p) || (PERSIST.test(p) && (write || /[wa+]/.test(String(a[1] && (a[1].flag || a[1])))))) {
          emit(prefix + n, fileApi()(a));
        }
        return orig.apply(this, a);
      };
    }
  };
  watchFs(fs, 'fs.');
  watchFs(fs.promises, 'fs.promises.');
  // --- environment --------------------------------------------------------
  const SECRET = /TOKEN|SECRET|PASSW|API_?KEY|^AWS_|^GITHUB_|^NPM_|CREDENTIAL|PRIVATE/; // upper-case: skips npm_config_*
  const realEnv = process.env;
  process.env = new Proxy(realEnv, {
    get(t, k) {
      if (typeof k === 'string' && SECRET.test(k)) emit('process.env.get', [k]);
      return Reflect.get(t, k);
    },
    ownKeys(t) { emit('process.env.enumerate', []); return Reflect.ownKeys(t); },
    // default set passes the proxy as receiver -> defineProperty with a partial
    // descriptor, which node's env object rejects (breaks npm's config loader)
    set(t, k, v) { t[k] = v; return true; },
  });
  // --- reconnaissance: who and where am I ----------------------------------
  const os = require('os');
  wrap(os, 'hostname', 'os.hostname', () => []);
  wrap(os, 'userInfo', 'os.userInfo', () => []);
  wrap(os, 'networkInterfaces', 'os.networkInterfaces', () => []);
  // --- dynamic code and escape hatches -------------------------------------
  const vm = require('vm');
  wrap(vm, 'runInThisContext', 'vm.runInThisContext', (a) => [String(a[0]).slice(0, 4000)]);
  wrap(vm, 'runInNewContext', 'vm.runInNewContext', (a) => [String(a[0]).slice(0, 4000)]);
  const OrigFunction = Function;
  const FunctionProxy = new Proxy(OrigFunction, {
    construct(t, a, nt) { emit('Function', [String(a[a.length - 1]).slice(0, 4000)]); return Reflect.construct(t, a, nt); },
    apply(t, th, a) { emit('Function', [String(a[a.length - 1]).slice(0, 4000)]); return Reflect.apply(t, th, a); },
  });
  global.Function = FunctionProxy;
  // eval() and (()=>{}).constructor cannot be wrapped; the in-process
  // inspector sees every script V8 compiles, with the stack that made it.
  // Not in npm itself: it runs no package code and would only slow down.
  const argv1 = process.argv[1] || '';
  if (!/npm-cli\.js$|\/node_modules\/npm\//.test(argv1)) {
    try {
      const inspector = require('inspector');
      const session = new inspector.Session();
      session.connect();
      session.on('Debugger.scriptParsed', (m) => {
        const p = m.params || {};
        if (p.url && !p.url.startsWith('evalmachine')) return;   // files: not dynamic code
        const frames = ((p.stackTrace && p.stackTrace.callFrames) || [])
          .map((f) => ({ file: String(f.url || '').replace(/^file:\/\//, ''), line: f.lineNumber + 1, col: f.columnNumber + 1 }))
          .filter((f) => classify(f.file) === 'pkg');
        if (!frames.length) return;
        session.post('Debugger.getScriptSource', { scriptId: p.scriptId }, (err, r) => {
          emitAt('eval', [r && r.scriptSource ? r.scriptSource : ''], frames.slice(0, 10).map((f) => `${f.file}:${f.line}:${f.col}`));
        });
      });
      session.post('Debugger.enable');
    } catch (_) { /* inspector unavailable: the Function/vm wrappers remain */ }
  }
  // A require of a module this machine lacks: what came after is not seen,
  // which the report says instead of "clean".
  try {
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      try {
        return resolve.call(this, request, ...rest);
      } catch (e) {
        if (e && e.code === 'MODULE_NOT_FOUND' && typeof request === 'string'
            && !request.startsWith('.') && !request.startsWith('/')) {
          emit('venv.import-missing', [request]);
        }
        throw e;
      }
    };
  } catch (_) { /* no CommonJS loader to watch */ }
  wrap(process, 'binding', 'process.binding', (a) => [a[0]]);
  wrap(process, 'dlopen', 'process.dlopen', (a) => [a[1]]);
  // ESM importers of builtins see the patched functions only after this:
  require('module').syncBuiltinESMExports();
}
