// /readyz against a database that really refuses writes, and `hearth status`
// printing the same for a shell.
//
// How the write is made to fail: these tests run as root, and root ignores
// file modes (chmod 0444 stops nobody), while SQLite keeps its file
// descriptors open anyway, so a mode change would not reach them. The
// immutable attribute (chattr +i) does: the kernel refuses every write to
// the inode, through descriptors already open too, whoever asks (tested here:
// SQLITE_IOERR_WRITE). It is set on hearth.db and hearth.db-wal (in WAL mode
// a commit appends to the -wal file). Not on -shm: SQLite writes that through
// a shared mapping, and an immutable -shm makes such a write a SIGBUS that
// kills the process rather than a failed write. Where chattr is missing or the
// file system has no such attribute, the test says so and skips.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loginAs, sleep, startServer } from '../helpers/server.js';
import { HealthChecks, type Readiness } from '../../host/ops/health.js';
import { runCli } from './ops-helpers.js';

function chattr(flag: '+i' | '-i', files: string[]): boolean {
  try {
    execFileSync('chattr', [flag, ...files], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const test = suite('health');

test('readyz fails while the database cannot be written, and recovers; hearth status agrees', async () => {
  const t = await startServer({ metrics: { listen: '127.0.0.1:0' } });
  const base = `http://127.0.0.1:${t.server.metricsAddress!.port}`;
  const files = [join(t.dataDir, 'hearth.db'), join(t.dataDir, 'hearth.db-wal')];
  const client = await loginAs(t, 'alice');
  let immutable = false;
  try {
    const ok = await fetch(`${base}/readyz`);
    assert.is(ok.status, 200);
    const st = await runCli(['status', '--data', t.dataDir]);
    assert.is(st.code, 0, st.stdout + st.stderr);
    assert.match(st.stdout, /readyz: ready/);
    assert.match(st.stdout, /database\s+ok/);

    immutable = chattr('+i', files);
    if (!immutable) {
      console.log('  (skipped: chattr +i is not available here, so no honest way to make the file refuse root)');
      return;
    }
    // The probe result is kept for a second: wait for a fresh one.
    let failed: Readiness | null = null;
    for (let i = 0; i < 50 && failed === null; i++) {
      const r = await fetch(`${base}/readyz`);
      if (r.status === 503) failed = (await r.json()) as Readiness;
      else await sleep(100);
    }
    assert.ok(failed, 'readyz answered 503');
    assert.is(failed!.ready, false);
    assert.is(failed!.checks.database.ok, false);
    assert.match(failed!.checks.database.detail, /write failed/);
    assert.ok(failed!.checks.control.ok && failed!.checks.voice.ok, 'the listeners are still fine');
    assert.is((await fetch(`${base}/healthz`)).status, 200, 'alive all the same');
    const st2 = await runCli(['status', '--data', t.dataDir]);
    assert.is(st2.code, 1, 'hearth status exits 1 when not ready');
    assert.match(st2.stdout, /NOT READY/);
    assert.match(st2.stdout, /database\s+FAIL/);
    // The server kept everyone connected meanwhile.
    await client.request('ping');

    assert.ok(chattr('-i', files));
    immutable = false;
    await sleep(1100);
    const again = await fetch(`${base}/readyz`);
    assert.is(again.status, 200, 'ready again once the file takes writes');
  } finally {
    if (immutable) chattr('-i', files);
    client.close();
    await t.stop();
  }
});

test('readyz says not ready while draining; hearth status exits 3 once stopped', async () => {
  const t = await startServer({ metrics: { listen: '127.0.0.1:0' } });
  const checks = new HealthChecks(t.server);
  assert.is(checks.readiness().ready, true);
  const stopping = t.server.stop();
  const during = checks.readiness();
  assert.is(during.ready, false, 'not ready once the drain began');
  assert.is(during.checks.draining.ok, false);
  await stopping;
  const st = await runCli(['status', '--data', t.dataDir]);
  assert.is(st.code, 3, st.stdout);
  assert.match(st.stdout, /not running/);
  await t.stop();
});

test.run();
