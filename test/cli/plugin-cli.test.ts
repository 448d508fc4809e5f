// `hearth plugin ...` spawned for real: capabilities must be granted
// explicitly, grants are recorded, and list/disable/enable/remove work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function hearth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

test('install shows what a plugin asks for and refuses without an explicit grant; grants are recorded', async () => {
  const data = tempDir('hearth-plugcli-');
  try {
    const manifest = join(REPO, 'manifests', 'wordfilter.json');
    const refused = await hearth(['plugin', 'install', manifest, '--data', data]);
    assert.is(refused.code, 1);
    assert.match(refused.stdout, /asks for capabilities: .*chat\.intercept/);
    assert.match(refused.stderr, /granted explicitly/);
    assert.not.ok(existsSync(join(data, 'plugins', 'wordfilter')), 'nothing installed');

    const bad = await hearth(['plugin', 'install', manifest, '--grant', 'root.shell', '--data', data]);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /unknown capabilities: root\.shell/);

    const ok = await hearth(['plugin', 'install', manifest, '--grant', 'chat.intercept,storage', '--data', data]);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /granted: chat\.intercept, storage; NOT granted: /);
    assert.ok(existsSync(join(data, 'plugins', 'wordfilter', 'manifest.json')));

    const list = await hearth(['plugin', 'list', '--data', data]);
    assert.match(list.stdout, /wordfilter\s+\S+\s+yes\s+chat\.intercept,storage\s+-\s+not loaded yet/, "installed, not yet loaded by a server (the status column shows the runtime state)");
    assert.is((await hearth(['plugin', 'disable', 'wordfilter', '--data', data])).code, 0);
    assert.match((await hearth(['plugin', 'list', '--data', data])).stdout, /wordfilter\s+\S+\s+no/);
    assert.is((await hearth(['plugin', 'enable', 'nosuch', '--data', data])).code, 1);
    const removed = await hearth(['plugin', 'remove', 'wordfilter', '--data', data]);
    assert.is(removed.code, 0);
    assert.not.ok(existsSync(join(data, 'plugins', 'wordfilter')));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('plugin new + build from the command line give an installable plugin', async () => {
  const dir = tempDir('hearth-plugnew-');
  const data = tempDir('hearth-plugnew-data-');
  try {
    const created = await hearth(['plugin', 'new', 'mybot', '--kind', 'bot', '--dir', dir]);
    assert.is(created.code, 0, created.stderr);
    assert.ok(existsSync(join(dir, 'mybot', 'index.ts')));
    const built = await hearth(['plugin', 'build', join(dir, 'mybot')]);
    assert.is(built.code, 0, built.stderr);
    assert.ok(existsSync(join(dir, 'mybot', 'mybot.wasm')) || built.stdout.includes('.wasm'), built.stdout);
    const inst = await hearth(['plugin', 'install', join(dir, 'mybot', 'manifest.json'), '--grant-requested', '--data', data]);
    assert.is(inst.code, 0, inst.stderr);
    const broken = await hearth(['plugin', 'build', join(dir, 'nothing-here')]);
    assert.is(broken.code, 1);
    assert.not.match(broken.stderr, /\n\s+at /, 'a clear message, not a stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

test.run();
