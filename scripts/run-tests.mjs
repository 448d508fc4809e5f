#!/usr/bin/env node
// Runs the uvu suite over the compiled tests and prints one plain summary line
// ("N passed, N failed") that CI can read. uvu leaves the process running if a
// failing test leaked a socket or timer, so once uvu has printed its totals we
// give it a moment to exit and then end it ourselves rather than hang CI.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// uvu's package exports hide bin.js; find it next to its package.json.
const uvuBin = join(dirname(dirname(require.resolve('uvu'))), 'bin.js');
const args = [uvuBin, 'dist/test', '\\.test\\.js$', '-i', 'helpers', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });

let out = '';
let killTimer = null;
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  out += d.toString();
  if (!killTimer && /Duration:/.test(out)) {
    killTimer = setTimeout(() => {
      process.stderr.write('run-tests: uvu finished but its process did not exit (leaked handle); ending it\n');
      child.kill('SIGKILL');
    }, 5000);
  }
});
// A hard ceiling so a hung test can never eat CI's whole budget.
const ceiling = setTimeout(() => {
  process.stderr.write('run-tests: suite exceeded 20 minutes; ending it\n');
  child.kill('SIGKILL');
}, 20 * 60_000);

child.on('exit', (code, signal) => {
  clearTimeout(ceiling);
  if (killTimer) clearTimeout(killTimer);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const failed = total - passed - skipped;
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  if (total === 0) process.exit(1);
  process.exit(failed > 0 || (code !== 0 && signal === null) ? 1 : 0);
});
