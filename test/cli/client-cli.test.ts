// `hearth client --headless` spawned for real against a real server: it
// connects, plays and records, prints its stats as one JSON line; every
// refusal (bad flags, wrong password, changed certificate, banned account)
// is one clear line on stderr and a non-zero exit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from '../../host/client/audio/wav.js';
import { createUser, PASSWORD, startServer, tempDir, type TestServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../host/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SPEECH = join(REPO, 'test', 'fixtures', 'speech.wav');

function hearth(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { timeout: 40_000, env: { ...process.env, HEARTH_CLIENT_HOME: home } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

let t: TestServer;
let dir: string;
let pwFile: string;
test.before(async () => {
  t = await startServer();
  await createUser(t, 'ann');
  await createUser(t, 'bob');
  const banned = await createUser(t, 'mallory');
  t.server.store.bans.add({ ip: null, userId: banned, expiresAt: null, reason: 'spam', bannedBy: null, bannedByName: 'admin' });
  dir = tempDir('hearth-clientcli-');
  pwFile = join(dir, 'pw');
  writeFileSync(pwFile, PASSWORD + '\n');
});
test.after(async () => {
  await t.stop();
});

const server = () => `127.0.0.1:${t.port}`;

test('A plays a WAV, B records it; --stats prints one JSON line; TOFU pins the certificate', async () => {
  const home = join(dir, 'tofu');
  const rec = join(dir, 'b.wav');
  const b = hearth(['client', '--headless', '--server', server(), '--user', 'bob', '--password-file', pwFile, '--record', rec, '--seconds', '9', '--stats'], home);
  await new Promise((r) => setTimeout(r, 1500));
  const a = await hearth(['client', '--headless', '--server', server(), '--user', 'ann', '--password-file', pwFile, '--fingerprint', t.fingerprint, '--play', SPEECH, '--stats'], join(dir, 'a'));
  assert.is(a.code, 0, a.stderr);
  const br = await b;
  assert.is(br.code, 0, br.stderr);
  const lines = br.stdout.trim().split('\n');
  assert.is(lines.length, 1, br.stdout);
  const stats = JSON.parse(lines[0]!) as { connection: string; speakers: { user: string; received: number; lost: number }[] };
  assert.is(stats.connection, 'connected');
  const ann = stats.speakers.find((s) => s.user === 'ann');
  const frames = Math.floor(readWav(SPEECH).frames / 960);
  assert.ok(ann && ann.received >= frames - 2, `B received ${ann?.received} of ${frames} frames`);
  const aStats = JSON.parse(a.stdout.trim()) as { sent: number };
  assert.ok(aStats.sent >= frames - 1, `A sent ${aStats.sent} of ${frames} frames: the file starts once connected`);
  const wav = readWav(rec);
  assert.is(wav.sampleRate, 48_000);
  assert.is(wav.channels, 2);
  assert.ok(wav.frames > 8 * 48_000, `recorded ${wav.frames} frames`);
  // Trust on first use: B pinned the server's fingerprint.
  assert.ok(existsSync(join(home, 'config', 'known_hosts.json')));
});

test('bad flags: one clear line and exit 2', async () => {
  const missing = await hearth(['client', '--headless', '--server', server(), '--user', 'ann'], join(dir, 'x'));
  assert.is(missing.code, 2);
  assert.is(missing.stderr.trim(), 'hearth: --headless needs --password-file');
  const badServer = await hearth(['client', '--headless', '--server', 'nohost:99999', '--user', 'ann', '--password-file', pwFile], join(dir, 'x'));
  assert.is(badServer.code, 2);
  assert.match(badServer.stderr, /^hearth: --server port must be 1-65535/);
  const noFile = await hearth(['client', '--headless', '--server', server(), '--user', 'ann', '--password-file', join(dir, 'nope')], join(dir, 'x'));
  assert.is(noFile.code, 2);
  assert.match(noFile.stderr, /^hearth: cannot read --password-file .*ENOENT/);
  const badPlay = await hearth(['client', '--headless', '--server', server(), '--user', 'ann', '--password-file', pwFile, '--fingerprint', t.fingerprint, '--play', join(dir, 'nope.wav')], join(dir, 'x'));
  assert.is(badPlay.code, 2);
  assert.match(badPlay.stderr, /^hearth: --play .*nope\.wav/);
});

test('a wrong password, a changed certificate and a banned account: one line each, non-zero exit', async () => {
  const wrong = join(dir, 'wrongpw');
  writeFileSync(wrong, 'not the password\n');
  const r1 = await hearth(['client', '--headless', '--server', server(), '--user', 'ann', '--password-file', wrong, '--fingerprint', t.fingerprint], join(dir, 'y'));
  assert.is(r1.code, 1);
  assert.is(r1.stderr.trim().split('\n').length, 1, r1.stderr);
  assert.match(r1.stderr, /^hearth: AUTH_FAILED: /);

  const fake = 'AA:' + Array.from({ length: 31 }, () => 'BB').join(':');
  const r2 = await hearth(['client', '--headless', '--server', server(), '--user', 'ann', '--password-file', pwFile, '--fingerprint', fake], join(dir, 'y'));
  assert.is(r2.code, 1);
  assert.match(r2.stderr, /^hearth: CERT_CHANGED: certificate fingerprint of 127\.0\.0\.1:\d+ changed!/);

  const r3 = await hearth(['client', '--headless', '--server', server(), '--user', 'mallory', '--password-file', pwFile, '--fingerprint', t.fingerprint], join(dir, 'y'));
  assert.is(r3.code, 1);
  assert.match(r3.stderr, /^hearth: BANNED: .*/);
  assert.match(r3.stderr, /spam/);
});

test('--list-devices lists the sound cards by name (PortAudio on a private ALSA null config)', async () => {
  const conf = join(dir, 'asound.conf');
  writeFileSync(conf, 'pcm.!default { type null }\npcm.hearth_mic { type null }\n');
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [MAIN, 'client', '--list-devices'], { timeout: 30_000, env: { ...process.env, ALSA_CONFIG_PATH: conf } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /inputs:\n(.*\n)*.*hearth_mic/);
  assert.match(r.stdout, /outputs:/);
});

test.run();
