// `hearth service print|install`: the unit holds the hardening it promises and
// (where systemd-analyze exists) systemd itself accepts it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/server.js';
import { runCli } from './ops-helpers.js';

const test = suite('service unit');

test('the printed unit runs unprivileged, hardened, with a bounded restart policy', async () => {
  const r = await runCli(['service', 'print', '--user', 'hearth', '--data', '/var/lib/hearth', '--metrics', '127.0.0.1:9464']);
  assert.is(r.code, 0, r.stderr);
  const unit = r.stdout;
  for (const line of [
    'User=hearth',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ReadWritePaths=/var/lib/hearth',
    'PrivateTmp=yes',
    'ProtectHome=yes',
    'Restart=on-failure',
    'StartLimitBurst=5',
    'StartLimitIntervalSec=300',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillSignal=SIGTERM',
    'CapabilityBoundingSet=',
    'StateDirectory=hearth',
  ]) {
    assert.ok(unit.split('\n').includes(line), `has ${line}`);
  }
  assert.match(unit, /^ExecStart=\S+node \S+\/dist\/host\/cli\/main\.js server --data \/var\/lib\/hearth --metrics 127\.0\.0\.1:9464$/m);
  assert.not.match(unit, /MemoryDenyWriteExecute=yes/, 'V8 needs W^X exceptions');
});

test('install writes the unit (systemd accepts it) and refuses root or an unknown account', async () => {
  const dir = tempDir('hearth-unit-');
  const file = join(dir, 'hearth.service');
  const ok = await runCli(['service', 'install', '--user', 'nobody', '--data', join(dir, 'data'), '--output', file]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(file));
  assert.match(readFileSync(file, 'utf8'), /^User=nobody$/m);
  assert.match(readFileSync(file, 'utf8'), new RegExp(`^ReadWritePaths=${join(dir, 'data')}$`, 'm'));
  let analyze = true;
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
  } catch {
    analyze = false;
  }
  if (analyze) {
    const out = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.is(out.trim(), '', 'systemd-analyze verify is silent');
  }
  const unknown = await runCli(['service', 'install', '--user', 'no-such-account-x', '--output', join(dir, 'x.service')]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /no account "no-such-account-x"; create it first: useradd --system/);
  const root = await runCli(['service', 'print', '--user', 'root']);
  assert.is(root.code, 1);
  assert.match(root.stderr, /must not run as root/);
});

test.run();
