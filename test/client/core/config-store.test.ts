import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { clientPaths, type ClientPaths } from '../../../host/client/core/paths.js';
import { ClientConfigError, ClientConfigStore, defaultSettings } from '../../../host/client/core/config-store.js';
import { createClientLogger } from '../../../host/client/core/client-logger.js';
import { FingerprintMismatchError, KnownHosts } from '../../../host/client/control/known-hosts.js';

const FP_A = '6C:C8:33:9B:F0:FA:CF:E0:82:24:0E:5A:A7:B1:67:0C:E8:91:74:FE:97:DC:A2:38:0F:CA:54:10:68:FE:00:BC';
const FP_B = 'AA:C8:33:9B:F0:FA:CF:E0:82:24:0E:5A:A7:B1:67:0C:E8:91:74:FE:97:DC:A2:38:0F:CA:54:10:68:FE:00:BC';
const SHA_1 = 'a'.repeat(64);
const SHA_2 = 'b'.repeat(64);

const test = suite<{ home: string; paths: ClientPaths; store: ClientConfigStore }>('client config store');

test.before.each((ctx) => {
  ctx.home = mkdtempSync(join(tmpdir(), 'hearth-client-'));
  ctx.paths = clientPaths({ home: ctx.home });
  ctx.store = new ClientConfigStore(ctx.paths);
});
/** Writes a config file by hand, as a user with an editor would. */
const handWrite = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};
test.after.each(({ home }) => rmSync(home, { recursive: true, force: true }));

const isConfigError = (e: unknown) => e instanceof ClientConfigError;

/** Runs fn and returns the ClientConfigError it throws. */
function configError(fn: () => unknown): ClientConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ClientConfigError) return err;
    throw err;
  }
  throw new Error('expected a ClientConfigError');
}

test('missing files read as defaults, and nothing is written by reading', ({ store, paths }) => {
  assert.equal(store.loadServers(), { servers: [], lastServerId: null });
  const s = store.loadSettings();
  assert.equal(s, defaultSettings());
  assert.equal(s.input, { device: null, gainDb: 0 });
  assert.equal(s.output, { device: null, volume: 1 });
  assert.equal(s.voice, { mode: 'vad', vadThresholdDb: -45, vadHangoverMs: 300, pttKey: 'Space' });
  assert.equal(s.users, {});
  assert.equal(s.plugins, { enabled: {}, config: {} });
  assert.equal(store.loadPluginGrants(), {});
  assert.equal(store.knownHosts.all(), {});
  assert.is(existsSync(paths.configDir), false, 'reading creates nothing');
  assert.equal(Object.values(store.check()), [null, null, null, null]);
});

test('a partial settings file is completed with defaults', ({ store }) => {
  const saved = store.saveSettings({ voice: { mode: 'ptt', pttKey: 'KeyT' }, users: { bob: { volume: 0.5 } } });
  assert.equal(saved.voice, { mode: 'ptt', vadThresholdDb: -45, vadHangoverMs: 300, pttKey: 'KeyT' });
  assert.equal(saved.users.bob, { volume: 0.5, muted: false, pan: 0 });
  assert.equal(store.loadSettings(), saved);
});

test('round trip of every file; all written 0600 with no temp file left behind', ({ store, paths }) => {
  const srv = store.upsertServer({ label: 'Home', host: 'voice.example.org', port: 64738, username: 'alice' });
  store.setLastServer(srv.id);
  const settings = store.updateSettings((s) => {
    s.input.device = 'USB Mic';
    s.input.gainDb = 6;
    s.output.volume = 0.8;
    s.voice.vadThresholdDb = -50;
    s.users['bob'] = { volume: 1.5, muted: true, pan: -0.5 };
    s.plugins.enabled['rnnoise'] = true;
    s.plugins.order = ['rnnoise', 'gain'];
    return s;
  });
  store.recordGrants(SHA_1, { pluginId: 'robot-voice', version: '1.0.0', grants: ['audio.intercept'] }, 1234);
  store.knownHosts.verify('voice.example.org:64738', FP_A);

  const again = new ClientConfigStore(paths.configDir);
  assert.equal(again.loadServers(), { servers: [srv], lastServerId: srv.id });
  assert.equal(again.loadSettings(), settings);
  assert.is(again.loadSettings().users.bob!.muted, true);
  assert.equal(again.loadPluginGrants(), { [SHA_1]: { pluginId: 'robot-voice', version: '1.0.0', grants: ['audio.intercept'], grantedAt: 1234 } });
  assert.is(again.knownHosts.get('voice.example.org:64738'), FP_A);

  assert.equal(readdirSync(paths.configDir).sort(), ['known_hosts.json', 'plugin-grants.json', 'servers.json', 'settings.json']);
  if (process.platform !== 'win32') {
    for (const f of readdirSync(paths.configDir)) assert.is(statSync(join(paths.configDir, f)).mode & 0o777, 0o600, `${f} is 0600`);
    assert.is(statSync(paths.configDir).mode & 0o777, 0o700, 'config dir is 0700');
  }
});

test('rewriting a 0644 file leaves it 0600 (the temp file is created 0600 and renamed over it)', ({ store }) => {
  if (process.platform === 'win32') return;
  store.saveSettings({});
  chmodSync(store.path('settings.json'), 0o644);
  store.saveSettings({ output: { volume: 0.5 } });
  assert.is(statSync(store.path('settings.json')).mode & 0o777, 0o600);
});

test('a password is stored only when the user asks, and dropped when they stop asking', ({ store }) => {
  const a = store.upsertServer({ label: 'A', host: 'a.example', port: 1, username: 'u', password: 'pw-not-asked' });
  assert.is(store.loadServers().servers[0]!.password, undefined, 'not stored without rememberPassword');
  store.upsertServer({ ...a, password: 'secret pw' }, { rememberPassword: true });
  assert.is(store.loadServers().servers[0]!.password, 'secret pw');
  store.upsertServer({ ...a, label: 'Renamed' });
  assert.is(store.loadServers().servers[0]!.password, 'secret pw', 'an edit without the option keeps it');
  assert.is(store.loadServers().servers[0]!.label, 'Renamed');
  store.upsertServer({ ...a }, { rememberPassword: false });
  assert.is(store.loadServers().servers[0]!.password, undefined, 'forgotten on request');
  assert.not.match(readFileSync(store.path('servers.json'), 'utf8'), /secret pw/);
  store.setLastServer(a.id);
  assert.ok(store.removeServer(a.id));
  assert.equal(store.loadServers(), { servers: [], lastServerId: null });
  assert.is(store.removeServer(a.id), false);
});

test('corrupt JSON: clear error naming the file, save refused, file untouched, other files still load, reset keeps it aside', ({ store, paths }) => {
  store.saveServers({ servers: [{ id: 's1', label: 'A', host: 'a.example', port: 64738, username: 'alice' }], lastServerId: 's1' });
  store.saveSettings({ output: { volume: 0.7 } });
  const bad = '{\n  "input": { "gainDb": 3 },\n  "output": { volume: 2 }\n}\n';
  handWrite(store.path('settings.json'), bad);

  const err = configError(() => store.loadSettings());
  assert.is(err.fileName, 'settings.json');
  assert.is(err.file, store.path('settings.json'));
  assert.is(err.problem, 'bad-json');
  assert.match(err.message, /^settings\.json: is not valid JSON/);
  assert.match(err.message, /line 3/, 'points at the line');
  assert.match(err.message, /reset/);

  const refused = configError(() => store.saveSettings({}));
  assert.is(refused.problem, 'refused-save');
  assert.match(refused.message, /refusing to overwrite/);
  assert.throws(() => store.updateSettings((s) => s), isConfigError);
  assert.is(readFileSync(store.path('settings.json'), 'utf8'), bad, 'the bad file is not overwritten');

  // The other files are unaffected.
  assert.is(store.loadServers().servers[0]!.host, 'a.example');
  store.upsertServer({ label: 'B', host: 'b.example', port: 64738, username: 'bob' });
  assert.is(store.loadServers().servers.length, 2);
  const problems = store.check();
  assert.instance(problems['settings.json'], ClientConfigError);
  assert.is(problems['servers.json'], null);

  const aside = store.reset('settings.json', new Date('2025-03-04T05:06:07.089Z'));
  assert.is(aside, `${store.path('settings.json')}.corrupt-2025-03-04T05-06-07-089Z`);
  assert.is(readFileSync(aside!, 'utf8'), bad, 'the bad file is kept, renamed');
  assert.equal(store.loadSettings(), defaultSettings(), 'defaults after the reset');
  store.saveSettings({ output: { volume: 0.9 } });
  assert.is(store.loadSettings().output.volume, 0.9, 'saving works again');
  assert.ok(readdirSync(paths.configDir).includes('settings.json.corrupt-2025-03-04T05-06-07-089Z'));
  assert.is(store.reset('plugin-grants.json'), null, 'nothing to reset');
});

test('a hand fix (instead of reset) makes the file usable again', ({ store }) => {
  handWrite(store.path('servers.json'), '{"servers": [');
  assert.throws(() => store.setLastServer(null), isConfigError);
  handWrite(store.path('servers.json'), '{"servers": []}');
  store.setLastServer(null);
  assert.equal(store.loadServers(), { servers: [], lastServerId: null });
});

test('schema violations name the field and what is wrong', ({ store }) => {
  handWrite(store.path('settings.json'), JSON.stringify({ voice: { mode: 'shout' }, output: { volume: 9 }, colour: 'red' }));
  const err = configError(() => store.loadSettings());
  assert.is(err.problem, 'schema');
  const paths = err.issues.map((i) => i.path);
  assert.ok(paths.includes('voice.mode'), `voice.mode in ${paths.join(', ')}`);
  assert.ok(paths.includes('output.volume'));
  assert.match(err.message, /settings\.json: is not a valid settings\.json: .*voice\.mode/);
  assert.match(err.message, /colour/, 'an unknown key is named too');

  handWrite(store.path('servers.json'), JSON.stringify({ servers: [{ id: 'x', label: '', host: 'h', port: 70000, username: 'u' }, { id: 'x', label: '', host: 'h', port: 1, username: 'u' }] }));
  const e2 = configError(() => store.loadServers());
  assert.ok(e2.issues.some((i) => i.path === 'servers.0.port'));
  assert.ok(e2.issues.some((i) => i.path === 'servers.1.id' && /duplicate/.test(i.message)));

  handWrite(store.path('plugin-grants.json'), JSON.stringify({ 'not-a-hash': { pluginId: 'x1', version: '1.0.0', grants: [], grantedAt: 1 } }));
  assert.match(configError(() => store.grantsFor(SHA_1)).message, /plugin-grants\.json/);

  // A value the caller builds wrong is refused before touching the disk.
  const e3 = configError(() => store.saveSettings({ voice: { vadHangoverMs: -1 } }));
  assert.is(e3.problem, 'bad-value');
  assert.ok(e3.issues.some((i) => i.path === 'voice.vadHangoverMs'));
});

test('plugin grants are keyed by the exact wasm hash', ({ store }) => {
  store.recordGrants(SHA_1, { pluginId: 'robot-voice', version: '1.0.0', grants: ['audio.intercept', 'state.read', 'audio.intercept'] });
  assert.equal(store.grantsFor(SHA_1), ['audio.intercept', 'state.read']);
  assert.equal(store.grantsFor(SHA_1.toUpperCase()), ['audio.intercept', 'state.read'], 'hex case does not matter');
  assert.equal(store.grantsFor(SHA_2), [], 'a changed wasm gets nothing');
  assert.equal(store.grantsFor(SHA_1, 'other-plugin'), [], 'nor does another plugin id with the same bytes');
  assert.equal(store.grantsFor(SHA_1, 'robot-voice'), ['audio.intercept', 'state.read']);
  // An update records a new hash; the old one keeps its own grants until revoked.
  store.recordGrants(SHA_2, { pluginId: 'robot-voice', version: '1.1.0', grants: ['audio.intercept'] });
  assert.equal(store.grantsFor(SHA_2), ['audio.intercept']);
  assert.ok(store.revokeGrants(SHA_1));
  assert.equal(store.grantsFor(SHA_1), []);
  assert.is(store.revokeGrants(SHA_1), false);
  assert.throws(() => store.recordGrants('abc', { pluginId: 'robot-voice', version: '1.0.0', grants: [] }), isConfigError);
});

test('known hosts: pin on first use, verify, mismatch, pin (accept), forget; a corrupt file trusts nobody', ({ store }) => {
  const kh = store.knownHosts;
  assert.is(kh.verify('h:1', FP_A), true, 'first use pins');
  assert.is(kh.verify('h:1', FP_A), false, 'same fingerprint passes');
  assert.is(kh.verify('h:1', FP_A.toLowerCase()), false, 'case-insensitive');
  try {
    kh.verify('h:1', FP_B);
    assert.unreachable('a changed fingerprint passed');
  } catch (err) {
    assert.instance(err, FingerprintMismatchError);
    const e = err as FingerprintMismatchError;
    assert.is(e.hostKey, 'h:1');
    assert.is(e.expected, FP_A);
    assert.is(e.actual, FP_B);
    assert.match(e.message, /certificate fingerprint of h:1 changed!/);
  }
  assert.is(kh.get('h:1'), FP_A, 'a mismatch does not re-pin');
  kh.pin('h:1', FP_B);
  assert.is(kh.verify('h:1', FP_B), false, 'accepted certificate passes');
  assert.ok(kh.forget('h:1'));
  assert.is(kh.get('h:1'), undefined);
  assert.is(kh.forget('h:1'), false);
  assert.is(kh.verify('h:1', FP_A), true, 'after forget, the next one pins again');

  // The old constructor still works on the same file (ControlClient uses it).
  assert.is(new KnownHosts(store.path('known_hosts.json')).get('h:1'), FP_A);

  handWrite(store.path('known_hosts.json'), JSON.stringify({ 'h:1': 'not a fingerprint' }));
  const err = configError(() => kh.verify('other:2', FP_A));
  assert.is(err.fileName, 'known_hosts.json');
  assert.ok(err.issues.some((i) => i.path === 'h:1'));
  assert.equal(JSON.parse(readFileSync(store.path('known_hosts.json'), 'utf8')), { 'h:1': 'not a fingerprint' }, 'nothing pinned into a bad file');
});

test('paths: XDG on Linux, defaults, relative XDG ignored, HEARTH_CLIENT_HOME overrides', () => {
  const linux = (env: NodeJS.ProcessEnv) => clientPaths({ env, platform: 'linux', homeDir: '/home/u' });
  assert.equal(linux({}), { configDir: '/home/u/.config/hearth', stateDir: '/home/u/.local/state/hearth', logDir: '/home/u/.local/state/hearth/logs' });
  assert.equal(linux({ XDG_CONFIG_HOME: '/x/cfg', XDG_STATE_HOME: '/x/state' }), { configDir: '/x/cfg/hearth', stateDir: '/x/state/hearth', logDir: '/x/state/hearth/logs' });
  assert.is(linux({ XDG_CONFIG_HOME: 'relative/cfg' }).configDir, '/home/u/.config/hearth', 'relative XDG value ignored (XDG spec)');
  assert.is(linux({ XDG_CONFIG_HOME: '' }).configDir, '/home/u/.config/hearth');
  assert.equal(linux({ HEARTH_CLIENT_HOME: '/t/h', XDG_CONFIG_HOME: '/x/cfg' }), { configDir: '/t/h/config', stateDir: '/t/h/state', logDir: '/t/h/state/logs' });
  assert.is(clientPaths({ home: '/opt/hc', env: { HEARTH_CLIENT_HOME: '/t/h' }, platform: 'linux' }).configDir, '/opt/hc/config', 'the option beats the variable');
  const mac = clientPaths({ env: {}, platform: 'darwin', homeDir: '/Users/u' });
  assert.is(mac.configDir, '/Users/u/Library/Application Support/Hearth');
  assert.is(mac.stateDir, '/Users/u/Library/Application Support/Hearth/state');
  const win = clientPaths({ env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, platform: 'win32', homeDir: 'C:\\Users\\u' });
  assert.is(win.configDir, 'C:\\Users\\u\\AppData\\Roaming\\Hearth');
  assert.is(win.stateDir, 'C:\\Users\\u\\AppData\\Local\\Hearth');
  assert.is(clientPaths({ env: {}, platform: 'win32', homeDir: 'C:\\Users\\u' }).configDir, 'C:\\Users\\u\\AppData\\Roaming\\Hearth');
});

test('the client logger writes a .log file in the state dir', async ({ paths }) => {
  const log = await createClientLogger({ paths, pretty: false });
  log.logger.info({ password: 'hunter2', event: 'hello' }, 'client started');
  await log.close();
  const files = readdirSync(paths.logDir).filter((f) => /^client\..*log$/.test(f));
  assert.is(files.length, 1, `one log file in ${paths.logDir}`);
  assert.ok(paths.logDir.startsWith(paths.stateDir));
  const text = readFileSync(join(paths.logDir, files[0]!), 'utf8');
  const line = JSON.parse(text.trim().split('\n').at(-1)!);
  assert.is(line.msg, 'client started');
  assert.is(line.password, '[redacted]');
  assert.not.ok(existsSync(join(paths.configDir, 'logs')), 'no logs in the config dir');
});

test.run();
