// Issue 10, attack 7 (output side): names and reasons that hold terminal escapes
// (ESC, OSC with BEL, CSI, 8-bit CSI, CR, bidi override) are written straight
// into the SQLite file, as a hand edit, an old version or a bug elsewhere would,
// and the real `hearth` process must print none of those bytes raw in
// `user list`, `channel list` or `ban list`. Input-side refusals by the CLI are
// checked too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hearth(args: string[], input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => errs.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hearth ${args.join(' ')}: no exit within 20 s`));
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/** Everything a terminal could act on, newline aside: C0, DEL, C1, separators, bidi and other format controls. */
const RAW_CONTROL = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function assertClean(text: string, what: string): void {
  const m = RAW_CONTROL.exec(text);
  assert.ok(!m, `${what} printed a raw U+${m?.[0].codePointAt(0)!.toString(16).padStart(4, '0')}: ${JSON.stringify(text)}`);
}

const EVIL_USER = 'evil\x1b]0;owned\x07\x1b[2J';
const EVIL_CHANNEL = 'Lobby\x1b[31m\u009b1;1H\u202eyddol\rRoot';
const EVIL_REASON = 'spam\x1b]8;;http://example.invalid/\x07click\x1b]8;;\x07\u0085next';

const test = suite<{ dir: string }>('CLI output escapes terminal controls');

test.before.each(async (ctx) => {
  ctx.dir = tempDir('hearth-cli-esc-');
  // Creates the database (schema) the way an admin would.
  const r = await hearth(['user', 'add', 'boss', '--password-stdin', '--data', ctx.dir], 'boss-password-1\n');
  assert.is(r.code, 0, r.stderr);
  const db = new Database(join(ctx.dir, 'hearth.db'));
  const now = Date.now();
  const user = db.prepare("INSERT INTO users (username, username_key, password_hash, role, created_at) VALUES (?, ?, 'x', 'member', ?)").run(EVIL_USER, EVIL_USER.toLowerCase(), now);
  db.prepare("INSERT INTO channels (parent_id, name, is_voice, required_role, position, description, created_at) VALUES (1, ?, 1, 'guest', 0, '', ?)").run(EVIL_CHANNEL, now);
  db.prepare("INSERT INTO bans (ip, user_id, expires_at, reason, banned_by, banned_by_name, created_at) VALUES ('192.0.2.9', ?, NULL, ?, NULL, ?, ?)").run(
    user.lastInsertRowid,
    EVIL_REASON,
    'mod\x1b[8m',
    now,
  );
  db.close();
});
test.after.each(({ dir }) => {
  rmSync(dir, { recursive: true, force: true });
});

test('user list, channel list and ban list print no raw control bytes, and show them escaped', async ({ dir }) => {
  const users = await hearth(['user', 'list', '--data', dir]);
  assert.is(users.code, 0, users.stderr);
  assertClean(users.stdout, 'user list');
  assert.match(users.stdout, 'evil\\u001b]0;owned\\u0007\\u001b[2J');

  const channels = await hearth(['channel', 'list', '--data', dir]);
  assert.is(channels.code, 0, channels.stderr);
  assertClean(channels.stdout, 'channel list');
  assert.match(channels.stdout, 'Lobby\\u001b[31m\\u009b1;1H\\u202eyddol\\u000dRoot');
  assert.is(channels.stdout.trimEnd().split('\n').length, 2, 'the CR did not fake a line: Root and one child');

  const bans = await hearth(['ban', 'list', '--all', '--data', dir]);
  assert.is(bans.code, 0, bans.stderr);
  assertClean(bans.stdout, 'ban list');
  assert.match(bans.stdout, 'spam\\u001b]8;;http://example.invalid/\\u0007click');
  assert.match(bans.stdout, 'mod\\u001b[8m');
  assert.is(bans.stdout.trimEnd().split('\n').length, 2, 'header and one ban (NEL did not start a line)');
});

test('a backslash is shown doubled, so an escape and a name that spells one out differ', async ({ dir }) => {
  const db = new Database(join(dir, 'hearth.db'));
  db.prepare("INSERT INTO channels (parent_id, name, is_voice, required_role, position, description, created_at) VALUES (1, 'C:\\u001b', 1, 'guest', 1, '', 0)").run();
  db.close();
  const r = await hearth(['channel', 'list', '--data', dir]);
  assert.match(r.stdout, 'C:\\\\u001b');
});

test('the CLI refuses a ban reason with control characters, and a look-alike user name', async ({ dir }) => {
  const ban = await hearth(['ban', 'add', '--ip', '192.0.2.1', '--reason', 'x\x1b[2J', '--data', dir]);
  assert.is(ban.code, 1);
  assert.match(ban.stderr, /control, bidi or invisible format characters \(found U\+001B\)/);
  assertClean(ban.stderr, 'ban add error');
  const user = await hearth(['user', 'add', 'b\u043Ess', '--password-stdin', '--data', dir], 'another-password-1\n');
  assert.is(user.code, 1);
  assert.match(user.stderr, /looks like the existing "boss"/);
});

test.run();
