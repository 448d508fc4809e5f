// The client's audio plugins in the core (no browser): found in the config
// dir's plugins/ folder (and among the shipped manifests), listed in the
// snapshot's clientPlugins, not running until every capability they ask for
// is granted to their exact wasm (plugin-grants.json, by sha256), switched on
// and off live, and a changed wasm asks again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientCore } from '../../../host/client/core/client-core.js';
import { ClientConfigStore } from '../../../host/client/core/config-store.js';
import type { ClientPluginView, ClientSnapshot } from '../../../host/client/core/snapshot.js';
import { sha256Hex } from '../../../host/plugins/manifest.js';
import { quietLogger } from '../../helpers/client.js';
import { tempDir } from '../../helpers/server.js';
import { repoRoot } from '../../plugins/helpers.js';

const home = tempDir('hearth-client-plugins-');
const configDir = join(home, 'config');
const pluginDir = join(configDir, 'plugins', 'gain');
const store = new ClientConfigStore(configDir);
const REQUESTED = ['audio.intercept', 'config.read'];
let core: ClientCore | null = null;

mkdirSync(pluginDir, { recursive: true });
copyFileSync(join(repoRoot, 'manifests', 'gain.json'), join(pluginDir, 'manifest.json'));
copyFileSync(join(repoRoot, 'guests', 'gain', 'build', 'gain.wasm'), join(pluginDir, 'gain.wasm'));
const originalSha = sha256Hex(readFileSync(join(pluginDir, 'gain.wasm')));

async function start(dirs: { shipped?: string; installed?: string } = { installed: join(configDir, 'plugins') }): Promise<ClientCore> {
  return ClientCore.start({ logger: quietLogger, knownHostsFile: store.path('known_hosts.json'), store, pluginDirs: dirs, capture: { kind: 'virtual' }, playback: { kind: 'virtual' } });
}

const gainOf = (s: ClientSnapshot): ClientPluginView | undefined => s.clientPlugins.find((p) => p.id === 'gain');

async function until(c: ClientCore, what: string, pred: (p: ClientPluginView) => boolean, ms = 8000): Promise<ClientPluginView> {
  try {
    const s = await c.state.until((x) => {
      const p = gainOf(x);
      return p !== undefined && pred(p);
    }, ms);
    return gainOf(s)!;
  } catch {
    throw new Error(`${what}: gain is ${JSON.stringify(gainOf(c.state.get()))}; errors ${JSON.stringify(c.state.get().errors)}`);
  }
}

/** Calls seen now and a little later: rising while it runs. */
async function callsRise(c: ClientCore): Promise<[number, number]> {
  const a = (await until(c, 'figures', (p) => (p.figures?.calls ?? 0) > 0)).figures!.calls;
  await new Promise((r) => setTimeout(r, 400));
  await until(c, 'more calls', (p) => (p.figures?.calls ?? 0) > a);
  return [a, gainOf(c.state.get())!.figures!.calls];
}

test.after(async () => {
  await core?.close();
});

test('the shipped manifests: only plugins with a raw audio hook are client plugins (aec, gain, ns; not noop, layouts, hearthbot, wordfilter)', async () => {
  const c = await start({ shipped: join(repoRoot, 'manifests') });
  try {
    const s = await c.state.until((x) => x.clientPlugins.length > 0, 5000);
    assert.equal(s.clientPlugins.map((p) => p.id), ['aec', 'gain', 'ns']);
    assert.ok(s.clientPlugins.every((p) => p.source === 'shipped'));
  } finally {
    await c.close();
  }
});

test('the first-party echo canceller and noise suppressor run by default (granted with the package), publish their stats, take config, and switch off', async () => {
  const own = new ClientConfigStore(join(tempDir('hearth-dsp-default-'), 'config'));
  const begin = (): Promise<ClientCore> =>
    ClientCore.start({ logger: quietLogger, knownHostsFile: own.path('known_hosts.json'), store: own, pluginDirs: { shipped: join(repoRoot, 'manifests') }, capture: { kind: 'virtual' }, playback: { kind: 'virtual' } });
  const of = (c: ClientCore, id: string): ClientPluginView | undefined => c.state.get().clientPlugins.find((p) => p.id === id);
  let c = await begin();
  try {
    const s = await c.state.until((x) => ['aec', 'ns'].every((id) => { const p = x.clientPlugins.find((q) => q.id === id); return p?.status === 'running' && Object.keys(p.figures?.published ?? {}).length > 0; }), 20_000);
    const aec = s.clientPlugins.find((p) => p.id === 'aec')!;
    assert.equal(aec.granted, aec.requested, 'granted what it asks for');
    // In silence it has no ERLE to show yet (NaN: left out), but its double-talk flag is there.
    assert.ok('doubleTalk' in aec.figures!.published, `the canceller publishes its stats: ${JSON.stringify(aec.figures!.published)}`);
    assert.is(s.clientPlugins.find((p) => p.id === 'gain')!.status, 'not granted', 'other shipped plugins still ask');
    assert.ok(of(c, 'ns')!.settings.some((x) => x.key === 'maxAttenuationDb' && x.value === 30), JSON.stringify(of(c, 'ns')!.settings));
    // Config: applied, saved; a config the schema refuses is refused whole.
    c.push({ type: 'plugin.config', pluginId: 'ns', config: { maxAttenuationDb: 12 } });
    await c.state.until((x) => x.clientPlugins.find((p) => p.id === 'ns')!.settings.some((y) => y.key === 'maxAttenuationDb' && y.value === 12), 5000);
    c.push({ type: 'plugin.config', pluginId: 'ns', config: { maxAttenuationDb: 'loud' } });
    await c.state.until((x) => /config for .* refused/.test(x.clientPlugins.find((p) => p.id === 'ns')!.error ?? ''), 5000);
    // Part of Hearth: switched off, not revoked.
    c.push({ type: 'plugin.revoke', pluginId: 'aec' });
    await c.state.until((x) => /part of Hearth/.test(x.clientPlugins.find((p) => p.id === 'aec')!.error ?? ''), 5000);
    c.push({ type: 'plugin.enable', pluginId: 'aec', on: false });
    await c.state.until((x) => x.clientPlugins.find((p) => p.id === 'aec')!.status === 'disabled', 5000);
    await c.close();
    const saved = own.loadSettings().plugins;
    assert.is(saved.enabled.aec, false);
    assert.equal(saved.config.ns, { maxAttenuationDb: 12 });
    c = await begin();
    const again = await c.state.until((x) => x.clientPlugins.find((p) => p.id === 'ns')?.status === 'running', 20_000);
    assert.is(again.clientPlugins.find((p) => p.id === 'aec')!.status, 'disabled', 'off stays off');
    assert.ok(again.clientPlugins.find((p) => p.id === 'ns')!.settings.some((y) => y.key === 'maxAttenuationDb' && y.value === 12), 'the saved config is used');
  } finally {
    await c.close();
  }
});

test('discovered in <config>/plugins/gain/: listed with what it asks for, not granted, not running', async () => {
  core = await start();
  const g = await until(core, 'listed', () => true);
  assert.is(g.source, 'installed');
  assert.is(g.name, 'Gain');
  assert.is(g.version, '1.0.0');
  assert.is(g.slot, 'effect');
  assert.is(g.sha256, originalSha);
  assert.equal(g.requested, REQUESTED);
  assert.equal(g.granted, []);
  assert.is(g.enabled, false);
  assert.is(g.status, 'not granted');
  assert.match(g.reason ?? '', /not granted.*microphone/);
  assert.is(g.figures, null);
});

test('enabled but not granted: still not running; the switch is saved in settings.json', async () => {
  core!.push({ type: 'plugin.enable', pluginId: 'gain', on: true });
  const g = await until(core!, 'enabled', (p) => p.enabled);
  assert.is(g.status, 'not granted');
  assert.is(store.loadSettings().plugins.enabled.gain, true);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(gainOf(core!.state.get())!.figures, null, 'not in the chain');
  assert.is(core!.state.get().plugins.length, 0);
});

test('a grant of a capability the manifest does not ask for (or that does not exist) is refused whole, with a clear error', async () => {
  core!.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: ['audio.intercept', 'moderation', 'telepathy'] });
  const g = await until(core!, 'refused', (p) => p.error !== null);
  assert.match(g.error!, /moderation.*does not ask for it/);
  assert.match(g.error!, /telepathy.*no such capability/);
  assert.equal(g.granted, []);
  assert.ok(core!.state.get().errors.some((e) => e.code === 'GRANT_REFUSED'));
  assert.equal(store.loadPluginGrants(), {}, 'nothing recorded');
});

test('a partial grant is recorded but does not make it run', async () => {
  core!.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: ['config.read'] });
  const g = await until(core!, 'partial', (p) => p.granted.length === 1);
  assert.is(g.status, 'not granted');
  assert.is(g.error, null);
  assert.match(g.reason ?? '', /audio\.intercept/);
  assert.equal(store.grantsFor(originalSha, 'gain'), ['config.read']);
});

test('granting everything it asks for: recorded for its sha256, and it runs (calls rising)', async () => {
  core!.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: REQUESTED });
  const g = await until(core!, 'running', (p) => p.status === 'running');
  assert.equal(g.granted, REQUESTED);
  const rec = store.loadPluginGrants()[originalSha];
  assert.ok(rec, 'plugin-grants.json has the wasm sha256');
  assert.equal([rec!.pluginId, rec!.version, rec!.grants], ['gain', '1.0.0', REQUESTED]);
  const [a, b] = await callsRise(core!);
  assert.ok(b > a, `calls ${a} -> ${b}`);
});

test('disable and enable are live: calls stop, then rise again; settings.json follows', async () => {
  core!.push({ type: 'plugin.enable', pluginId: 'gain', on: false });
  const off = await until(core!, 'disabled', (p) => p.status === 'disabled' && p.figures?.state === 'off');
  assert.is(store.loadSettings().plugins.enabled.gain, false);
  await new Promise((r) => setTimeout(r, 300));
  const frozen = gainOf(core!.state.get())!.figures!.calls;
  await new Promise((r) => setTimeout(r, 400));
  assert.is(gainOf(core!.state.get())!.figures!.calls, frozen, 'no calls while disabled');
  assert.ok(off.figures!.calls <= frozen);
  core!.push({ type: 'plugin.enable', pluginId: 'gain', on: true });
  await until(core!, 'running again', (p) => p.status === 'running');
  await until(core!, 'calls again', (p) => (p.figures?.calls ?? 0) > frozen);
  assert.is(store.loadSettings().plugins.enabled.gain, true);
});

test('the grant and the switch survive a restart: it runs at once', async () => {
  await core!.close();
  core = await start();
  const g = await until(core, 'running after restart', (p) => p.status === 'running');
  assert.equal(g.granted, REQUESTED);
  assert.is(g.enabled, true);
  await callsRise(core);
});

test('revoke: it stops running and the grant is gone from plugin-grants.json', async () => {
  core!.push({ type: 'plugin.revoke', pluginId: 'gain' });
  const g = await until(core!, 'revoked', (p) => p.status === 'not granted');
  assert.equal(g.granted, []);
  assert.is(store.loadPluginGrants()[originalSha], undefined);
  await core!.state.until((s) => s.plugins.length === 0, 5000);
  // Grant again for the next test.
  core!.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: REQUESTED });
  await until(core!, 'running', (p) => p.status === 'running');
});

test('a changed wasm (new sha256, manifest updated) needs a grant again; the old grant does not count', async () => {
  await core!.close();
  core = null;
  // A custom section appended: still a valid module, other bytes.
  const wasm = readFileSync(join(pluginDir, 'gain.wasm'));
  const changed = Buffer.concat([wasm, Buffer.from([0x00, 0x0a, 0x01, 0x78]), Buffer.from('tampered')]);
  const newSha = sha256Hex(changed);
  assert.is.not(newSha, originalSha);
  writeFileSync(join(pluginDir, 'gain.wasm'), changed);
  const m = JSON.parse(readFileSync(join(pluginDir, 'manifest.json'), 'utf8')) as { wasm: { sha256: string } };
  m.wasm.sha256 = newSha;
  writeFileSync(join(pluginDir, 'manifest.json'), JSON.stringify(m, null, 2));
  core = await start();
  let g = await until(core, 'listed', () => true);
  assert.is(g.sha256, newSha);
  assert.equal(g.granted, []);
  assert.is(g.status, 'not granted');
  assert.is(g.enabled, true, 'still switched on: only the grant is per wasm');
  assert.ok(store.loadPluginGrants()[originalSha], 'the old grant is kept for the old bytes');
  await new Promise((r) => setTimeout(r, 300));
  assert.is(core.state.get().plugins.length, 0, 'not in the chain');
  core.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: REQUESTED });
  g = await until(core, 'running with the new grant', (p) => p.status === 'running');
  assert.equal(store.grantsFor(newSha, 'gain'), REQUESTED);
  await callsRise(core);
});

test('a wasm tampered behind its manifest (sha256 mismatch) is a fault: listed, never run, cannot be granted', async () => {
  await core!.close();
  core = null;
  const wasm = readFileSync(join(pluginDir, 'gain.wasm'));
  wasm[wasm.length - 1] = wasm[wasm.length - 1]! ^ 0xff;
  writeFileSync(join(pluginDir, 'gain.wasm'), wasm);
  core = await start();
  const g = await until(core, 'listed', () => true);
  assert.is(g.status, 'fault');
  assert.match(g.reason ?? '', /sha256/);
  assert.is(g.sha256, null);
  core.push({ type: 'plugin.grant', pluginId: 'gain', capabilities: REQUESTED });
  const r = await until(core, 'refused', (p) => p.error !== null);
  assert.match(r.error!, /did not load/);
  assert.is(core.state.get().plugins.length, 0);
});

test.run();
