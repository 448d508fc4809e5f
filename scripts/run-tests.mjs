#!/usr/bin/env node
// Runs the uvu suite over the compiled tests, one process per test file, and
// prints one plain summary line ("N passed, N failed, N skipped") that CI can
// read, then the files that failed.
//
// One process per file, not uvu's one process for everything: a file whose
// test leaks an unhandled rejection made uvu "exit early" and hid every
// result after it, and a file that leaks a socket or a timer cannot hold the
// rest of the suite hostage. A file gets FILE_TIMEOUT_MS; the whole suite a
// ceiling well inside CI's 90 minutes.
//   node scripts/run-tests.mjs [pattern]     (pattern: a substring of the file path)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = 'dist/test';
const FILE_TIMEOUT_MS = 6 * 60_000;
const SUITE_CEILING_MS = 45 * 60_000;
const only = process.argv[2] ?? '';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'helpers') out.push(...find(p));
    } else if (name.endsWith('.test.js') && p.includes(only)) out.push(p);
  }
  return out;
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let exitTimer = null;
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      out += d.toString();
      // uvu printed its totals: give the process a moment to exit, then end it (a leaked handle).
      if (!exitTimer && /Duration:/.test(out)) {
        exitTimer = setTimeout(() => {
          process.stderr.write(`run-tests: ${file} finished but did not exit (leaked handle); ending it\n`);
          child.kill('SIGKILL');
        }, 5000);
      }
    });
    const timeout = setTimeout(() => {
      process.stderr.write(`run-tests: ${file} exceeded ${FILE_TIMEOUT_MS / 60_000} minutes; ending it\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      if (exitTimer) clearTimeout(exitTimer);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
      // No totals (it crashed before uvu could print them) or a bad exit counts as a failure.
      const broken = total === 0 || (code !== 0 && signal === null && passed + skipped === total);
      resolve({ total, passed, skipped, failed: Math.max(total - passed - skipped, broken ? 1 : 0) });
    });
  });
}

const files = find(ROOT);
if (!files.length) {
  process.stderr.write(`run-tests: no test files under ${ROOT}${only ? ` matching ${only}` : ''} (build first: npm run build)\n`);
  process.exit(1);
}
const started = Date.now();
let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
for (const file of files) {
  if (Date.now() - started > SUITE_CEILING_MS) {
    process.stderr.write(`run-tests: the suite exceeded ${SUITE_CEILING_MS / 60_000} minutes; ${file} and the rest not run\n`);
    failed++;
    failedFiles.push(`${relative(ROOT, file)} (not run: ceiling)`);
    break;
  }
  process.stdout.write(`\n# ${relative(ROOT, file)}\n`);
  const r = await runFile(file);
  passed += r.passed;
  skipped += r.skipped;
  failed += r.failed;
  if (r.failed) failedFiles.push(relative(ROOT, file));
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped (${files.length} files, ${minutes} min)\n`);
for (const f of failedFiles) process.stdout.write(`failed: ${f}\n`);
process.exit(failed > 0 ? 1 : 0);
