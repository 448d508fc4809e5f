// Native memory housekeeping (host/server/memory.ts): the addon's malloc
// functions are there on this Linux/glibc build, and a real server trims once
// a burst of connections has settled, not while nothing changes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { MemoryHousekeeping } from '../../host/server/memory.js';
import { connect, eventually, sleep, startServer } from '../helpers/server.js';

const test = suite('memory housekeeping');

test('the addon tunes and trims glibc malloc', () => {
  const addon = createRequire(import.meta.url)('hearth-sendmmsg') as { tuneMalloc(a: number, b: number): boolean; trimMalloc(): boolean };
  assert.is(addon.tuneMalloc(1024 * 1024, 2), true, 'mallopt accepted both settings');
  assert.type(addon.trimMalloc(), 'boolean');
  assert.throws(() => addon.tuneMalloc(-1 as number, 'x' as unknown as number), /two unsigned integers/);
});

test('trims only after a change, once it has been quiet, and not again without one', () => {
  const m = new MemoryHousekeeping();
  assert.ok(m.available, 'built here');
  m.tick(100_000);
  assert.is(m.trims, 0, 'nothing changed: no trim');
  m.noteChange(100_000);
  m.tick(100_500);
  assert.is(m.trims, 0, 'still in the burst');
  m.tick(101_200);
  assert.is(m.trims, 1, 'quiet for a second: trimmed');
  m.tick(105_000);
  assert.is(m.trims, 1, 'no change since: no second trim');
  m.noteChange(105_000);
  m.tick(107_000);
  assert.is(m.trims, 1, 'at most one trim per 10 s');
  m.tick(111_300);
  assert.is(m.trims, 2);
});

test('a real server trims after connections come and go', async () => {
  const t = await startServer();
  try {
    assert.is(t.server.memory.trims, 0);
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(t)));
    for (const c of clients) c.close();
    await eventually(() => t.server.connectionCount === 0, 3000, 'connections closed');
    await eventually(() => t.server.memory.trims > 0, 5000, 'trimmed after the burst');
    const after = t.server.memory.trims;
    await sleep(2500);
    assert.is(t.server.memory.trims, after, 'no trim while nothing changes');
  } finally {
    await t.stop();
  }
});

test.run();
