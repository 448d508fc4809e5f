// Manifests: the schema, the shipped manifests, sha256 verification, config.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MODULE_LIMITS } from '../../host/plugins/wasm-structure.js';
import { silentLogger } from '../../host/log/logger.js';
import { PluginError } from '../../host/plugins/errors.js';
import {
  loadPluginFiles,
  manifestJsonSchema,
  parseManifest,
  resolveConfig,
  sha256Hex,
  shippedPluginFiles,
} from '../../host/plugins/manifest.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { guestWasm, repoRoot, shippedManifest } from './helpers.js';

const test = suite('plugins: manifests');

const SHIPPED = ['noop', 'gain', 'wordfilter', 'hearthbot'];

function base(): Record<string, unknown> {
  return {
    manifestVersion: 1,
    id: 'example',
    name: 'Example',
    version: '1.2.3',
    wasm: { file: 'example.wasm', sha256: 'a'.repeat(64) },
    hooks: ['on_chat'],
    capabilities: ['chat.intercept'],
  };
}

function problems(raw: unknown): string {
  try {
    parseManifest(raw);
  } catch (err) {
    assert.instance(err, PluginError);
    return (err as Error).message;
  }
  return assert.unreachable('manifest was accepted') as never;
}

test('every shipped manifest is valid and its sha256 matches the built wasm', async () => {
  for (const id of SHIPPED) {
    const files = await shippedPluginFiles(repoRoot, id);
    assert.is(files.manifest.id, id);
    assert.is(files.manifest.wasm.sha256, sha256Hex(files.wasm), `${id} sha256 (run scripts/build-guests.mjs)`);
  }
});

test('defaults are filled in', () => {
  const m = parseManifest(base());
  const { module, ...rest } = m.limits;
  assert.equal(rest, { memoryMiB: 16, callMs: 20, killMs: 1000, overrunLimit: 10, storageKiB: 256 });
  assert.equal(module, DEFAULT_MODULE_LIMITS, 'limits.module defaults (wasm-structure.ts)');
  assert.equal(m.config, { schema: { type: 'object' }, defaults: {} });
  assert.equal(m.commands, []);
  assert.is(m.hostApi, 1);
});

test('invalid manifests are refused with every problem named', () => {
  assert.match(problems({ ...base(), id: 'Bad Id' }), /id: id must be/);
  assert.match(problems({ ...base(), capabilities: [] }), /hook on_chat needs capability "chat.intercept"/);
  assert.match(problems({ ...base(), capabilities: ['chat.intercept', 'root'] }), /capabilities/);
  assert.match(problems({ ...base(), hooks: ['on_render'] }), /hooks/);
  assert.match(problems({ ...base(), wasm: { file: 'x.wasm', sha256: 'ABC' } }), /wasm.sha256/);
  assert.match(problems({ ...base(), wasm: { file: '../../etc/x.wasm', sha256: 'a'.repeat(64) } }), /wasm.file/);
  assert.match(problems({ ...base(), limits: { callMs: 50, killMs: 10 } }), /killMs must be >= limits.callMs/);
  assert.match(problems({ ...base(), limits: { memoryMiB: 100000 } }), /memoryMiB/);
  assert.match(problems({ ...base(), commands: ['x'] }), /commands need the on_command hook/);
  assert.match(problems({ ...base(), extra: true }), /extra|Unrecognized/);
  const many = problems({ ...base(), id: '', version: 'one' });
  assert.match(many, /id:/);
  assert.match(many, /version:/);
});

test('config: defaults must satisfy the schema; admin values are validated', () => {
  const withConfig = {
    ...base(),
    config: { schema: { type: 'object', properties: { gain: { type: 'number', maximum: 8 } }, additionalProperties: false }, defaults: { gain: 9 } },
  };
  assert.throws(() => parseManifest(withConfig), (e: Error) => e instanceof PluginError && e.code === 'CONFIG_INVALID');
  const gain = shippedManifest('gain');
  assert.equal(resolveConfig(gain, {}), { gain: 1 });
  assert.equal(resolveConfig(gain, { gain: 0.25 }), { gain: 0.25 });
  assert.throws(() => resolveConfig(gain, { gain: 99 }), (e: Error) => e instanceof PluginError && e.code === 'CONFIG_INVALID');
  assert.throws(() => resolveConfig(gain, { volume: 1 }), /CONFIG_INVALID|does not match/);
});

test('a wasm whose sha256 differs from the manifest is refused (files and host)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-plugin-'));
  try {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'manifests', 'noop.json'), 'utf8')) as { wasm: { file: string } };
    writeFileSync(join(dir, 'noop.json'), JSON.stringify(manifest));
    copyFileSync(join(repoRoot, 'guests', 'noop', 'build', 'noop.wasm'), join(dir, 'noop.wasm'));
    const ok = await loadPluginFiles(join(dir, 'noop.json'));
    assert.is(ok.manifest.id, 'noop', 'the installed layout (wasm next to the manifest) loads');

    const tampered = new Uint8Array(readFileSync(join(dir, 'noop.wasm')));
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    writeFileSync(join(dir, 'noop.wasm'), tampered);
    const err = await loadPluginFiles(join(dir, 'noop.json')).then(() => null, (e: unknown) => e);
    assert.instance(err, PluginError);
    assert.is((err as PluginError).code, 'SHA256_MISMATCH');
    assert.match((err as Error).message, /refusing to load/);

    const host = new PluginHost({ logger: silentLogger() });
    try {
      const m = shippedManifest('noop');
      const e2 = await host.load({ manifest: m, wasm: tampered, grants: [] }).then(() => null, (e: unknown) => e);
      assert.is((e2 as PluginError).code, 'SHA256_MISMATCH');
      assert.equal(host.list(), []);
    } finally {
      await host.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sdk/manifest.schema.json is generated from the zod schema (node scripts/emit-manifest-schema.mjs)', () => {
  const onDisk = JSON.parse(readFileSync(join(repoRoot, 'sdk', 'manifest.schema.json'), 'utf8')) as unknown;
  assert.equal(onDisk, JSON.parse(JSON.stringify(manifestJsonSchema())));
});

test('grants the manifest did not request are ignored', async () => {
  const host = new PluginHost({ logger: silentLogger() });
  try {
    const m = shippedManifest('noop');
    const info = await host.load({ manifest: m, wasm: guestWasm('noop'), grants: ['chat.intercept', 'moderation', 'storage'] });
    assert.equal(info.grants, ['chat.intercept']);
  } finally {
    await host.close();
  }
});

test.run();
