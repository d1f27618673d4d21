#!/usr/bin/env node
// Runs the unit tests (beside the code, dist/src/**/*.test.js) and then the integration
// tests (dist/test/*.test.js) one file at a time, ending with the leak check.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const pick = (files) => (filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files);
const unit = pick(find('dist/src'));
const integration = pick(find('dist/test')).filter((f) => !f.endsWith('leaks.test.js'));
const files = [...unit, ...integration];
if (!filter.length || filter.some((s) => 'leaks'.includes(s))) files.push('dist/test/leaks.test.js');
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // no test makes a TLS call; this saves ~50 ms a process
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
