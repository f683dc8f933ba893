#!/usr/bin/env node
// image/prod-modules.js ROOT: prints, one per line, the folders under ROOT/node_modules that
// the production dependencies of ROOT/package.json need (dependencies, optional and peer
// dependencies, transitively, resolved the way Node resolves them). Dev dependencies
// (typescript, mocha, the AWS SDK of the tests) stay out of the image.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(process.argv[2] || '.');
const seen = new Set();
function find(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const cand = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (dir === root || dir === path.dirname(dir)) return null;
  }
}
function walk(pkgDir, optional) {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const deps = { ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies };
  for (const name of Object.keys(deps)) {
    const dir = find(name, pkgDir);
    if (!dir) {
      const opt = (pkg.optionalDependencies && name in pkg.optionalDependencies) || (pkg.peerDependencies && name in pkg.peerDependencies);
      if (!opt) { process.stderr.write(`missing ${name} (needed by ${pkgDir})\n`); process.exitCode = 1; }
      continue;
    }
    const rel = path.relative(root, dir);
    if (seen.has(rel)) continue;
    seen.add(rel);
    walk(dir);
  }
}
walk(root);
process.stdout.write([...seen].sort().join('\n') + '\n');
