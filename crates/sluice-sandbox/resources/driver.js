'use strict';
// sluice in-sandbox driver for the Node import and execute phases. Shipped
// inside the sluice binary and run only inside the sandbox; the preload hook
// treats frames of this file as its own.
//   node driver.js import    require() every dependency of ./package.json
//   node driver.js execute   run every `bin` of those packages with --help
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const TIMEOUT = 30000;
const proj = process.cwd();
let deps = [];
try {
  deps = Object.keys(JSON.parse(fs.readFileSync(path.join(proj, 'package.json'), 'utf8')).dependencies || {});
} catch (e) { console.error('[driver] no package.json:', e.message); }
function run(file, args) {
  console.log('[driver] run', file, args.join(' '));
  const r = cp.spawnSync(file, args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: TIMEOUT });
  console.log('[driver] exit', r.status, r.signal || '');
}
const mode = process.argv[2];
for (const d of deps) {
  if (mode === 'import') {
    // a fresh process per package; linger so async work started at require runs
    run(process.execPath, ['-e', `require(${JSON.stringify(d)}); setTimeout(() => {}, 1500);`]);
  } else if (mode === 'execute') {
    let bin = {};
    try { bin = JSON.parse(fs.readFileSync(path.join(proj, 'node_modules', d, 'package.json'), 'utf8')).bin || {}; } catch (e) { /* none */ }
    if (typeof bin === 'string') bin = { [d.split('/').pop()]: bin };
    for (const name of Object.keys(bin)) {
      if (/^[\w.@-]+$/.test(name)) run(path.join(proj, 'node_modules', '.bin', name), ['--help']);
    }
  }
}
