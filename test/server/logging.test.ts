// Log files on disk: what a real server writes, and how the rolling files
// behave (host/log/rolling-file.ts). Files are `<name>.<N>.log` (N from 1
// upward); the oldest are deleted so that at most keep + 1 remain (keep rolled
// ones plus the active one).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../host/log/logger.js';
import { msToNextBoundary, parseSize } from '../../host/log/rolling-file.js';
import { connect, createUser, eventually, expectError, PASSWORD, sleep, startServer, tempDir } from '../helpers/server.js';

const LOG_NAME = /^hearth\.(\d+)\.log$/;

interface Line {
  msg?: string;
  level?: number;
  time?: string;
  [k: string]: unknown;
}

/** Parses a file as JSON lines; fails the test on any line that is not a JSON object. */
function jsonLines(file: string): Line[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.length === 0 || text.endsWith('\n'), `${file} ends with a complete line`);
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        assert.unreachable(`${file}:${i + 1} is not JSON: ${l.slice(0, 80)}`);
      }
      assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${file}:${i + 1} is a JSON object`);
      return v as Line;
    });
}

const logFiles = (dir: string) => readdirSync(dir).filter((f) => LOG_NAME.test(f));
const fileNumber = (f: string) => Number(LOG_NAME.exec(f)![1]);

const test = suite('logging');

test('a server writes JSON lines: "server listening", "login" with the user, never the password', async () => {
  const t = await startServer();
  const secretWrong = 'Wrong-Secret-Marker-4471';
  try {
    await createUser(t, 'logwriter');
    const c = await connect(t);
    await expectError(c.login('logwriter', secretWrong), 'AUTH_FAILED');
    const w = await c.login('logwriter', PASSWORD);
    assert.is(w.self.username, 'logwriter');
    c.close();
    await eventually(() => t.server.connectionCount === 0, 2000, 'connection closed');
  } finally {
    await t.stop({ keepData: true }); // stop() flushes and closes the log stream
  }
  try {
    const dir = join(t.dataDir, 'logs');
    const files = logFiles(dir);
    assert.ok(files.length >= 1, 'at least one .log file');
    assert.equal(readdirSync(dir).filter((f) => !LOG_NAME.test(f)), [], 'only hearth.N.log files');
    const lines = files.sort((a, b) => fileNumber(a) - fileNumber(b)).flatMap((f) => jsonLines(join(dir, f)));
    for (const l of lines) {
      assert.type(l.msg, 'string');
      assert.type(l.level, 'number');
      assert.ok(!Number.isNaN(Date.parse(String(l.time))), 'ISO time');
    }
    const listening = lines.find((l) => l.msg === 'server listening');
    assert.ok(listening, '"server listening" line');
    assert.is(listening!.port, t.port);
    const login = lines.find((l) => l.msg === 'login');
    assert.ok(login, '"login" line');
    assert.is(login!.user, 'logwriter');
    assert.ok(lines.some((l) => l.msg === 'login failed' && l.user === 'logwriter'), '"login failed" line');
    assert.ok(lines.some((l) => l.msg === 'server stopped'), 'the last line was flushed at stop');
    const raw = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    assert.not.ok(raw.includes(PASSWORD), 'the password is not in the logs');
    assert.not.ok(raw.includes(secretWrong), 'a wrong password is not in the logs');
  } finally {
    rmSync(t.dataDir, { recursive: true, force: true });
  }
});

test('redaction: password-like fields never reach the file', async () => {
  const dir = tempDir('hearth-log-');
  try {
    const hl = await createLogger({ dir, pretty: false });
    hl.logger.info({ password: 'pw-one-1234', user: { password: 'pw-two-1234' }, newPassword: 'pw-three-1234', bootstrapToken: 'tok-1234' }, 'careless');
    await hl.close();
    const [line] = logFiles(dir).flatMap((f) => jsonLines(join(dir, f))).filter((l) => l.msg === 'careless');
    assert.ok(line, 'line written');
    assert.is(line!.password, '[redacted]');
    assert.equal(line!.user, { password: '[redacted]' });
    const raw = logFiles(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    for (const secret of ['pw-one-1234', 'pw-two-1234', 'pw-three-1234', 'tok-1234']) assert.not.ok(raw.includes(secret), secret);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rolling by size: several hearth.N.log files, at most keep + 1 kept, all JSON lines, nothing lost from them', async () => {
  const dir = tempDir('hearth-roll-');
  const keep = 2;
  try {
    const hl = await createLogger({ dir, size: '1k', keep, pretty: false });
    const seen = new Set<string>();
    let maxAtOnce = 0;
    const pad = 'x'.repeat(150);
    let seq = 0;
    // ~2 KB per batch; the file rolls once the current file passes 1 KiB and the stream drains.
    for (let batch = 0; batch < 8; batch++) {
      for (let i = 0; i < 10; i++) hl.logger.info({ seq: seq++, pad }, 'filler');
      await sleep(25);
      const now = logFiles(dir);
      for (const f of now) seen.add(f);
      maxAtOnce = Math.max(maxAtOnce, now.length);
    }
    await hl.close();
    for (const f of logFiles(dir)) seen.add(f);

    const numbers = [...seen].map(fileNumber).sort((a, b) => a - b);
    assert.ok(numbers.length >= 4, `rolled several times (saw ${[...seen].join(', ')})`);
    assert.is(numbers[0], 1, 'numbering starts at 1');
    assert.equal(numbers, numbers.map((_, i) => i + 1), 'numbers are consecutive');
    // Old files are deleted asynchronously right after a roll.
    const left = await eventually(() => {
      const f = logFiles(dir);
      return f.length <= keep + 1 ? f : null;
    }, 2000, `at most ${keep + 1} files`);
    assert.is(left.length, keep + 1, 'exactly keep + 1 files remain');
    const leftNumbers = left.map(fileNumber).sort((a, b) => a - b);
    const newest = numbers[numbers.length - 1]!;
    assert.equal(leftNumbers, [newest - 2, newest - 1, newest], 'the newest files are the ones kept');
    assert.ok(maxAtOnce <= keep + 2, `never more than one extra file while rolling (saw ${maxAtOnce})`);

    // Every kept file is whole JSON lines; together they hold an unbroken tail of the sequence.
    const seqs: number[] = [];
    for (const n of leftNumbers) {
      const lines = jsonLines(join(dir, `hearth.${n}.log`));
      // The active file may be empty: the logger opens the next file as soon as one passes the size.
      if (n !== newest) assert.ok(lines.length > 0, `rolled hearth.${n}.log is not empty`);
      for (const l of lines) seqs.push(l.seq as number);
    }
    assert.is(seqs[seqs.length - 1], seq - 1, 'the last line was flushed by close()');
    assert.equal(seqs, seqs.map((_, i) => seqs[0]! + i), 'no line lost or reordered in the kept files');
    // A rolled (non-active) file reached the size limit before it was rolled.
    const rolled = readFileSync(join(dir, `hearth.${leftNumbers[0]}.log`));
    assert.ok(rolled.length >= 1024, `rolled file has ${rolled.length} bytes`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files left by earlier runs are pruned to keep + 1 at start', async () => {
  const dir = tempDir('hearth-prune-');
  try {
    const old = Date.now() / 1000 - 3600;
    for (let i = 1; i <= 12; i++) {
      writeFileSync(join(dir, `hearth.${i}.log`), '{"msg":"old"}\n');
      utimesSync(join(dir, `hearth.${i}.log`), old + i, old + i);
    }
    writeFileSync(join(dir, 'unrelated.txt'), 'keep me');
    const hl = await createLogger({ dir, keep: 3, pretty: false });
    hl.logger.info('fresh');
    await hl.close();
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
    assert.ok(logs.length <= 5, `at most keep + 1 old files plus the active one (got ${logs.length}: ${logs.join(', ')})`);
    assert.ok(logs.includes('hearth.12.log') && logs.includes('hearth.10.log'), 'the newest old files survive');
    assert.not.ok(logs.includes('hearth.1.log'), 'the oldest is gone');
    assert.ok(readdirSync(dir).includes('unrelated.txt'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close() is idempotent; a second logger on the same directory (restart, admin CLI) appends, never truncates', async () => {
  const dir = tempDir('hearth-roll2-');
  try {
    const a = await createLogger({ dir, size: '1k', keep: 50, pretty: false });
    for (let i = 0; i < 40; i++) {
      a.logger.info({ i, pad: 'y'.repeat(100) }, 'first');
      if (i % 10 === 9) await sleep(20);
    }
    await a.close();
    await a.close();
    assert.ok(logFiles(dir).length >= 2, 'the first logger rolled');
    const b = await createLogger({ dir, size: '1k', keep: 50, pretty: false });
    b.logger.info('second');
    await b.close();
    const lines = logFiles(dir).flatMap((f) => jsonLines(join(dir, f)));
    const firsts = lines.filter((l) => l.msg === 'first').map((l) => l.i as number).sort((x, y) => x - y);
    assert.equal(firsts, Array.from({ length: 40 }, (_, i) => i), 'every line of the first logger is still there');
    assert.is(lines.filter((l) => l.msg === 'second').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log.size: binary units, MiB when none is given, a clear error for nonsense', () => {
  assert.is(parseSize('1k'), 1024);
  assert.is(parseSize('10m'), 10 * 1024 * 1024);
  assert.is(parseSize('10MB'), 10 * 1024 * 1024);
  assert.is(parseSize('2'), 2 * 1024 * 1024);
  assert.is(parseSize('1g'), 1024 ** 3);
  assert.is(parseSize('512b'), 512);
  assert.throws(() => parseSize('ten megs'), /not a size/);
  assert.throws(() => parseSize('0k'), /below one byte/);
});

test('time boundaries: the next local hour and midnight, or a fixed period', () => {
  const at = new Date(2026, 11, 2, 13, 45, 30, 0);
  assert.is(msToNextBoundary('hourly', at), (14 * 60 + 30) * 1000);
  assert.is(msToNextBoundary('daily', at), new Date(2026, 11, 3).getTime() - at.getTime());
  assert.is(msToNextBoundary(250, at), 250);
});

test('rolling by time: a period with lines in it starts the next file; an empty one does not', async () => {
  const dir = tempDir('hearth-roll-time-');
  try {
    const hl = await createLogger({ dir, frequency: 60, keep: 20, pretty: false });
    for (let i = 0; i < 3; i++) {
      hl.logger.info({ i }, 'timed');
      await sleep(150);
    }
    const afterLines = logFiles(dir).length;
    await sleep(300); // idle periods: no new files
    const afterIdle = logFiles(dir).length;
    await hl.close();
    assert.ok(afterLines >= 3, `each period with a line rolled (files: ${afterLines})`);
    assert.ok(afterIdle <= afterLines + 1, `idle periods roll at most once more (${afterLines} → ${afterIdle})`);
    const lines = logFiles(dir).flatMap((f) => jsonLines(join(dir, f))).filter((l) => l.msg === 'timed');
    assert.equal(lines.map((l) => l.i).sort(), [0, 1, 2], 'every line is in some file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
