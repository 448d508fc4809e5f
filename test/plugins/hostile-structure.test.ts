// Hostile sweep, issue 11 item 1: a module's structure alone must not take
// the host down. The 259-byte guest of the issue declared a 10,000,000-entry
// table; V8 aborts the whole process instantiating it (a worker's
// resourceLimits do not help: measured, the process dies with SIGABRT). On
// the code before this change the first test aborts this test process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PluginError } from '../../host/plugins/errors.js';
import { parseManifest, sha256Hex } from '../../host/plugins/manifest.js';
import type { PluginHost } from '../../host/plugins/runtime.js';
import { capModule } from '../../host/plugins/wasm-limits.js';
import { readStructure } from '../../host/plugins/wasm-structure.js';
import { hostWithNoop, neighbourAnswers, type CapturedLogger } from './helpers.js';
import { handMade, install, oobData, tableBomb } from './server-helpers.js';
import { eventually, loginAs, startServer } from '../helpers/server.js';

const test = suite('plugins: hostile module structure');

let host: PluginHost;
let log: CapturedLogger;

test.before.each(async () => {
  ({ host, log } = await hostWithNoop({ loadTimeoutMs: 3000 }));
});
test.after.each(async () => {
  await host.close();
});

const manifestFor = (id: string, wasm: Uint8Array, limits: Record<string, unknown> = {}) =>
  parseManifest({ manifestVersion: 1, id, name: id, version: '0.0.1', wasm: { file: `${id}.wasm`, sha256: sha256Hex(wasm) }, hooks: ['on_command'], limits });

async function loadError(id: string, wasm: Uint8Array, limits: Record<string, unknown> = {}): Promise<PluginError> {
  const err = await host.load({ manifest: manifestFor(id, wasm, limits), wasm, grants: [] }).then(() => null, (e: unknown) => e);
  assert.instance(err, PluginError, `${id} was loaded`);
  return err as PluginError;
}

test('the table bomb is refused before it is compiled, with a clear error; the host keeps serving', async () => {
  const bomb = tableBomb();
  assert.ok(bomb.length < 259, `${bomb.length} bytes`);
  const err = await loadError('tablebomb', bomb);
  assert.is(err.code, 'MODULE_LIMIT');
  assert.match(err.message, /10000000 table elements.*limit of 100000 \(limits\.module\.tableElements\)/);
  assert.ok(log.atLeast(50).some((l) => l.plugin === 'tablebomb'), 'the refusal is logged');
  assert.ok(await neighbourAnswers(host));
});

test('each structure limit comes from the manifest (limits.module) and is checked', async () => {
  // A table of 2,000 entries: fine by default, refused with tableElements 1,000.
  const table = handMade({ table: [1, 0x70, 0x00, 0xd0, 0x0f] });
  assert.is((await loadError('tbl', table, { module: { tableElements: 1000 } })).code, 'MODULE_LIMIT');
  assert.match((await loadError('fns', table, { module: { functions: 0 } })).message, /1 functions.*limits\.module\.functions/);
  assert.match((await loadError('small', table, { module: { fileKiB: 1, exports: 0 } })).message, /exports/);
  const info = await host.load({ manifest: manifestFor('tbl', table), wasm: table, grants: [] });
  assert.is(info.state, 'running');
});

test('a table without a maximum gets one: table.grow cannot reach the same allocation later', () => {
  const unbounded = handMade({ table: [1, 0x70, 0x00, 0x01] }); // (table 1 funcref), no maximum
  assert.equal(readStructure(unbounded).tables, [{ initial: 1, maximum: null }]);
  assert.equal(readStructure(capModule(unbounded, 16, 100_000, 't')).tables, [{ initial: 1, maximum: 100_000 }]);
  const tight = handMade({ table: [1, 0x70, 0x01, 0x01, 0x08] }); // max 8 stays
  assert.equal(readStructure(capModule(tight, 16, 100_000, 't')).tables, [{ initial: 1, maximum: 8 }]);
});

test('an active data segment outside the initial memory is refused at load, not trapped at every start', async () => {
  const err = await loadError('oob', oobData());
  assert.is(err.code, 'WASM_INVALID');
  assert.match(err.message, /data segment of 16 bytes at offset 65530 lies outside its initial memory \(65536 bytes\)/);
  assert.ok(await neighbourAnswers(host));
});

test('in a live server: the table bomb is refused, recorded, and the server keeps serving', async () => {
  const t = await startServer({ plugins: { pollMs: 100, timerMs: 1000 } });
  try {
    const c = await loginAs(t, 'amy');
    await install(t, { id: 'tablebomb', wasm: tableBomb(), hooks: ['on_command'] });
    const rec = await eventually(() => {
      const r = t.server.store.plugins.get('tablebomb');
      return r?.runtimeState === 'failed' ? r : null;
    }, 15_000, 'the load failure recorded');
    assert.is(rec.lastFault?.kind, 'load:MODULE_LIMIT');
    assert.match(rec.lastFault!.message, /table elements/);
    assert.type((await c.request<{ serverTime: number }>('ping')).serverTime, 'number');
    c.close();
  } finally {
    await t.stop();
  }
});

test.run();
