// Runs every test file (unit tests beside the code, API tests in test/) with Node's test runner.
// Usage: npm test [-- file-or-folder ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function collect(target, out) {
  const stat = statSync(target);
  if (stat.isFile()) {
    if (target.endsWith('.test.ts')) out.push(target);
    return out;
  }
  for (const entry of readdirSync(target)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    collect(path.join(target, entry), out);
  }
  return out;
}

const targets = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (targets.length > 0 ? targets : ['src', 'test']).flatMap((t) => collect(t, [])).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The browser tests check timing budgets (the 50,000-seat map's first frame) on this machine, so they
// run after the rest, one file at a time, rather than sharing the two cores with another test file.
const browser = files.filter((f) => f.split(path.sep).includes('e2e'));
const rest = files.filter((f) => !browser.includes(f));
let status = 0;
for (const group of [rest, browser]) {
  if (group.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${group === browser ? 1 : 2}`, '--test-timeout=300000', ...flags, ...group],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
