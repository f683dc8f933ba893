/**
 * The import rules of STYLE.md §2, checked on every source file (a lint rule in test form):
 * common is a leaf; sqliterepo and client stand on common; a service never imports another
 * service; front ends and the CLI never import services; only runtime composes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== 'node_modules') walk(p); }
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Project-relative folder of an import (undefined for packages and node: built-ins). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)));
}

/** The layer of a project path: "appliance/services/rawx", "appliance/client", "agents", ... */
function layerOf(rel: string): string {
  const parts = rel.split(path.sep);
  if (parts[0] === 'appliance' && (parts[1] === 'services' || parts[1] === 'gateways')) return parts.slice(0, 3).join('/');
  if (parts[0] === 'appliance') return parts.slice(0, 2).join('/');
  if (parts[0] === 'fs-bridge') return parts.slice(0, 2).join('/');
  return parts[0]!;
}

function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  const under = (l: string, p: string) => l === p || l.startsWith(p + '/');
  if (under(from, 'appliance/common')) return false;
  if (under(from, 'appliance/sqliterepo') || under(from, 'appliance/client')) return under(to, 'appliance/common') || (under(from, 'appliance/client') && under(to, 'appliance/client'));
  if (under(from, 'appliance/services')) {
    return ['appliance/common', 'appliance/sqliterepo', 'appliance/client'].some((p) => under(to, p)) || to === 'appliance/runtime';
  }
  if (under(from, 'appliance/gateways/admin-ssh')) return ['appliance/common', 'appliance/client', 'appliance/cli'].some((p) => under(to, p));
  if (under(from, 'appliance/gateways') || under(from, 'appliance/cli')) return ['appliance/common', 'appliance/client', 'appliance/cli'].some((p) => under(to, p)) && !(under(from, 'appliance/gateways') && under(to, 'appliance/cli'));
  if (under(from, 'appliance/runtime')) return under(to, 'appliance') || under(to, 'agents') || under(to, 'fs-bridge');
  if (from === 'agents' || from === 'fs-bridge/core') return ['appliance/common', 'appliance/client'].some((p) => under(to, p)) || under(to, from);
  if (under(from, 'fs-bridge')) return ['fs-bridge/core', 'appliance/common', 'appliance/client'].some((p) => under(to, p));
  return true; // test/ may import anything
}

describe('architecture: who may import whom (STYLE.md §2)', () => {
  const files = ['appliance', 'agents', 'fs-bridge'].flatMap((d) => sources(path.join(ROOT, d)));

  it('finds the source files', () => {
    assert.ok(files.length > 50, `only ${files.length} files found under ${ROOT}`);
  });

  it('has no import that crosses a forbidden boundary', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = layerOf(path.relative(ROOT, f));
      for (const target of importsOf(f)) {
        const to = layerOf(target);
        // services may import only runtime/service (the Service interface), nothing else of runtime
        if (from.startsWith('appliance/services') && to === 'appliance/runtime' && !target.endsWith(path.join('runtime', 'service'))) bad.push(`${path.relative(ROOT, f)} -> ${target}`);
        else if (!allowed(from, to)) bad.push(`${path.relative(ROOT, f)} -> ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('would catch a service importing another service', () => {
    assert.equal(allowed('appliance/services/meta2', 'appliance/services/rawx'), false);
    assert.equal(allowed('appliance/client', 'appliance/services/proxy'), false);
    assert.equal(allowed('appliance/cli', 'appliance/services/meta2'), false);
  });
});
