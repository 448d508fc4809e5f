// The real `hearth` command line, spawned as a child process on a real data
// directory: admin commands, then the server itself, whose clients see what the
// admin commands did (accounts, passwords, bans made while it runs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../host/client/control/control-client.js';
import { expectError, sleep, tempDir } from '../helpers/server.js';

// Compiled, this file is dist/test/cli/admin-cli.test.js; the CLI is dist/host/cli/main.js.
const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));

const ALICE_PW = 'alice-secret-pw-1';
const BOB_PW = 'bob-first-password';
const BOB_PW2 = 'bob-second-password';
const CAROL_PW = 'carol-password-42';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `hearth <args>` to completion, feeding `input` on stdin (then EOF). */
function hearth(args: string[], input = '', timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hearth ${args.join(' ')}: no exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

async function ok(args: string[], input = ''): Promise<string> {
  const r = await hearth(args, input);
  assert.is(r.code, 0, `hearth ${args.join(' ')} failed: ${r.stderr}`);
  assert.is(r.stderr, '', 'nothing on stderr');
  return r.stdout;
}

async function fails(args: string[], input = ''): Promise<string> {
  const r = await hearth(args, input);
  assert.is(r.code, 1, `hearth ${args.join(' ')} should exit 1 (stdout: ${r.stdout})`);
  assert.not.match(r.stderr, /\n\s+at /, 'a clear message, not a stack trace');
  return r.stderr;
}

/** Rows of a table printed by the CLI (header first), split on runs of 2+ spaces. */
function rows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));
}

interface RunningServer {
  child: ChildProcess;
  stdout: () => string;
  port: number;
  fingerprint: string;
}

/** Spawns `hearth server` and waits for its listening line and fingerprint. */
async function startCliServer(dataDir: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [MAIN, 'server', '--data', dataDir, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const m = await new Promise<{ port: number; fingerprint: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 15_000);
      const check = () => {
        const port = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        const fp = /fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(out);
        if (port && fp && out.endsWith('\n')) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve({ port: Number(port[1]), fingerprint: fp[1]! });
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
      });
    });
    return { child, stdout: () => out, ...m };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

/** SIGTERM, then the exit code (null if it had to be killed). */
function terminate(child: ChildProcess, timeoutMs = 8000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
    child.kill('SIGTERM');
  });
}

function client(s: RunningServer): Promise<ControlClient> {
  return ControlClient.connect({ host: '127.0.0.1', port: s.port, fingerprint: s.fingerprint, pingIntervalMs: 0 }).then((c) => {
    c.on('error', () => {}); // unsolicited `error` messages must not become uncaught EventEmitter errors
    return c;
  });
}

const test = suite<{ dir: string; servers: ChildProcess[]; shortBanAt: number; bobBan: number; ipBan: number; shortBan: number }>('admin CLI');

test.before((ctx) => {
  ctx.dir = tempDir('hearth-cli-');
  ctx.servers = [];
});

test.after(async (ctx) => {
  for (const c of ctx.servers) await terminate(c, 2000);
  rmSync(ctx.dir, { recursive: true, force: true });
});

// CLI processes are slow to start (~0.7 s), so independent commands run side by side.

test('user add (password on stdin); duplicate and weak password refused with exit 1 and a clear message', async ({ dir }) => {
  const out = await ok(['user', 'add', 'alice', '--role', 'admin', '--password-stdin', '--data', dir], `${ALICE_PW}\n`);
  assert.match(out, /created user alice \(id 1, role admin\)/);
  const [dup, weak, bob, carol] = await Promise.all([
    fails(['user', 'add', 'ALICE', '--password-stdin', '--data', dir], 'another-long-password\n'),
    fails(['user', 'add', 'weakling', '--password-stdin', '--data', dir], 'short\n'),
    ok(['user', 'add', 'bob', '--password-stdin', '--data', dir], `${BOB_PW}\n`),
    ok(['user', 'add', 'carol', '--password-stdin', '--data', dir], `${CAROL_PW}\n`),
  ]);
  assert.match(dup, /^hearth: user "ALICE" already exists\n$/, dup); // names are case-insensitive
  assert.match(weak, /^hearth: password must have at least 8 characters\n$/, weak);
  assert.match(bob, /created user bob \(id \d+, role member\)/);
  assert.match(carol, /created user carol/);
});

test('user role, user passwd, ban add (user + duration, ip), channel list; then user list and ban list show them', async (ctx) => {
  const { dir } = ctx;
  const before = Date.now();
  const [role, passwd, byUser, byIp, short, channels] = await Promise.all([
    ok(['user', 'role', 'bob', 'moderator', '--data', dir]),
    ok(['user', 'passwd', 'bob', '--password-stdin', '--data', dir], `${BOB_PW2}\n`),
    ok(['ban', 'add', '--user', 'bob', '--duration', '1h', '--reason', 'spamming links', '--data', dir]),
    ok(['ban', 'add', '--ip', '203.0.113.7', '--reason', 'scanner', '--data', dir]),
    ok(['ban', 'add', '--user', 'carol', '--duration', '1s', '--reason', 'cool down', '--data', dir]),
    ok(['channel', 'list', '--data', dir]),
  ]);
  ctx.shortBanAt = Date.now();
  assert.match(role, /bob: member -> moderator/);
  assert.match(passwd, /password of bob changed/);
  assert.match(channels, /^Root {2}\[id 1; voice\]$/m);
  const m = /ban (\d+) added, expires (\S+)/.exec(byUser);
  assert.ok(m, byUser);
  const expires = Date.parse(m![2]!);
  assert.ok(Math.abs(expires - (before + 3600_000)) < 60_000, `expires about an hour from now (${m![2]})`);
  ctx.bobBan = Number(m![1]);
  ctx.ipBan = Number(/ban (\d+) added \(permanent\)/.exec(byIp)?.[1]);
  ctx.shortBan = Number(/ban (\d+) added, expires/.exec(short)?.[1]);
  assert.equal(new Set([ctx.bobBan, ctx.ipBan, ctx.shortBan]).size, 3, 'three distinct ban ids');

  const [users, bans] = await Promise.all([ok(['user', 'list', '--data', dir]), ok(['ban', 'list', '--data', dir])]);
  const table = rows(users);
  assert.equal(table[0]!.slice(0, 3), ['id', 'username', 'role']);
  const byName = new Map(table.slice(1).map((r) => [r[1], r]));
  assert.equal([...byName.keys()].sort(), ['alice', 'bob', 'carol'], 'exactly the three accounts (the refused adds left nothing)');
  assert.is(byName.get('alice')![2], 'admin');
  assert.is(byName.get('bob')![2], 'moderator');
  assert.is(byName.get('carol')![2], 'member');

  const list = rows(bans);
  assert.equal(list[0], ['id', 'user', 'ip', 'expires', 'active', 'by', 'reason']);
  const bob = list.find((r) => r[0] === String(ctx.bobBan));
  assert.ok(bob, 'bob ban listed');
  assert.equal([bob![1], bob![2], bob![4], bob![5], bob![6]], ['bob', '-', 'yes', 'admin-cli', 'spamming links']);
  const ip = list.find((r) => r[0] === String(ctx.ipBan));
  assert.ok(ip, 'ip ban listed');
  assert.equal([ip![1], ip![2], ip![3], ip![4], ip![6]], ['-', '203.0.113.7', 'never', 'yes', 'scanner']);
});

test('ban remove ID; ban list --all keeps expired bans as history', async (ctx) => {
  const { dir } = ctx;
  assert.match(await ok(['ban', 'remove', String(ctx.ipBan), '--data', dir]), new RegExp(`^ban ${ctx.ipBan} lifted\n$`));
  // the 1 s ban has expired by now (make sure): it is history, listed only with --all
  const wait = ctx.shortBanAt + 1100 - Date.now();
  if (wait > 0) await sleep(wait);
  const [again, active, all] = await Promise.all([
    fails(['ban', 'remove', String(ctx.ipBan), '--data', dir]),
    ok(['ban', 'list', '--data', dir]),
    ok(['ban', 'list', '--all', '--data', dir]),
  ]);
  assert.match(again, new RegExp(`no ban ${ctx.ipBan}`));
  assert.equal(rows(active).slice(1).map((r) => r[0]), [String(ctx.bobBan)], 'removed and expired bans are not active');
  const allRows = rows(all).slice(1);
  assert.equal(allRows.map((r) => r[0]).sort(), [String(ctx.bobBan), String(ctx.shortBan)].sort(), 'the expired ban is history; the removed one is gone');
  const expired = allRows.find((r) => r[0] === String(ctx.shortBan))!;
  assert.equal([expired[1], expired[4], expired[6]], ['carol', 'expired', 'cool down']);
});

test('hearth server: prints port and fingerprint; CLI accounts log in; a CLI ban made while it runs is enforced; SIGTERM exits 0', async (ctx) => {
  const { dir } = ctx;
  const s = await startCliServer(dir);
  ctx.servers.push(s.child);
  assert.not.match(s.stdout(), /bootstrap token/, 'an admin exists: no bootstrap token');
  assert.match(s.stdout(), /data directory: /);

  // the password set by `user add --password-stdin`, and the role
  const a = await client(s);
  assert.is(a.fingerprint, s.fingerprint);
  const w = await a.login('alice', ALICE_PW);
  assert.is(w.self.role, 'admin');

  // `user passwd` replaced bob's password; he is banned (1 h), which is checked after the password
  const b1 = await client(s);
  await expectError(b1.login('bob', BOB_PW), 'AUTH_FAILED');
  const banned = await expectError(b1.login('bob', BOB_PW2), 'BANNED');
  assert.is(banned.details?.reason, 'spamming links');
  assert.match(banned.message, /spamming links/);
  await b1.waitClose(3000);

  // carol's 1 s ban expired: she gets in
  const c1 = await client(s);
  const wc = await c1.login('carol', CAROL_PW);
  assert.is(wc.self.username, 'carol');
  c1.close();

  // banned from the CLI while the server runs → refused at her next login, with the reason
  const added = await ok(['ban', 'add', '--user', 'carol', '--reason', 'ban while running', '--data', dir]);
  assert.match(added, /\(permanent\)/);
  const c2 = await client(s);
  const e = await expectError(c2.login('carol', CAROL_PW), 'BANNED');
  assert.is(e.details?.reason, 'ban while running');
  assert.is(e.details?.expiresAt, null);
  const d = await c2.waitClose(3000);
  assert.is(d?.code, 'BANNED');
  assert.is(d?.reason, 'ban while running');

  // the admin session is unaffected; then a clean shutdown
  await a.request('ping');
  const closing = a.waitClose(5000);
  const exit = await terminate(s.child);
  assert.equal(exit, { code: 0, signal: null }, 'SIGTERM → exit code 0');
  const bye = await closing;
  assert.is(bye?.code, 'SHUTDOWN');
});

test('first run on a fresh directory prints a bootstrap token that makes its user admin', async (ctx) => {
  const fresh = tempDir('hearth-cli-fresh-');
  try {
    const s = await startCliServer(fresh);
    ctx.servers.push(s.child);
    // The token lines may arrive in a later stdout chunk than the fingerprint line.
    for (let i = 0; i < 50 && !/bootstrap token: (\S+)\n/.test(s.stdout()); i++) await new Promise((r) => setTimeout(r, 100));
    const token = /bootstrap token: (\S+)/.exec(s.stdout())?.[1];
    assert.ok(token, `bootstrap token printed:\n${s.stdout()}`);
    assert.match(s.stdout(), /newly generated/);
    const c = await client(s);
    const w = await c.register('founder', 'founder-password', { bootstrapToken: token! });
    assert.is(w.self.role, 'admin');
    c.close();
    const exit = await terminate(s.child);
    assert.is(exit.code, 0);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});

test.run();
