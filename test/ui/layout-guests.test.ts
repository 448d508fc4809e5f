// The two shipped layout plugins (guests/layout-default, guests/layout-compact)
// compiled to wasm and run in a real PluginHost through the on_layout hook:
// every answer, for every connection status, role, pending certificate and
// viewport, is a valid LayoutTree (host/client/ui/components.ts); each layout
// shows what that state needs (connect form when signed out, the certificate
// on top when one is pending, the session widgets when connected, tabs when
// narrow); the compact layout differs visibly; each call stays well inside the
// manifest's time limit; a garbage input still gets a usable layout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LayoutTreeSchema, WIDGETS, type LayoutInput, type LayoutNode, type LayoutTree } from '../../host/client/ui/components.js';
import type { HookName } from '../../host/plugins/capabilities.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { captureLogger, guestWasm, shippedManifest } from '../plugins/helpers.js';

const test = suite('ui: layout guests');

const STATUSES: LayoutInput['status'][] = ['disconnected', 'connecting', 'connected', 'reconnecting', 'failed'];
const ROLES: LayoutInput['role'][] = [null, 'guest', 'member', 'moderator', 'admin'];
const VIEWPORTS = [
  { width: 360, height: 640 },
  { width: 759, height: 900 },
  { width: 760, height: 900 },
  { width: 1280, height: 800 },
  { width: 2560, height: 1440 },
];
const HOOK = 'on_layout' as HookName;

function input(over: Partial<LayoutInput> = {}): LayoutInput {
  return { status: 'connected', role: 'member', certificatePending: false, serverName: 'Den', viewport: { width: 1280, height: 800 }, users: 3, channels: 4, errors: 0, ...over };
}

/** Widgets in document order (depth first, tabs in order). */
function widgets(n: LayoutNode, out: string[] = []): string[] {
  if (n.kind === 'widget') out.push(n.widget);
  else if (n.kind === 'row' || n.kind === 'column') n.children.forEach((c) => widgets(c, out));
  else if (n.kind === 'tabs') n.tabs.forEach((t) => widgets(t.child, out));
  else if (n.kind === 'panel') widgets(n.child, out);
  return out;
}

function find(n: LayoutNode, pred: (n: LayoutNode) => boolean): LayoutNode[] {
  const out: LayoutNode[] = pred(n) ? [n] : [];
  if (n.kind === 'row' || n.kind === 'column') n.children.forEach((c) => out.push(...find(c, pred)));
  else if (n.kind === 'tabs') n.tabs.forEach((t) => out.push(...find(t.child, pred)));
  else if (n.kind === 'panel') out.push(...find(n.child, pred));
  return out;
}

let host: PluginHost;
const log = captureLogger();

test.before(async () => {
  host = new PluginHost({ logger: log.logger });
  for (const id of ['layout-default', 'layout-compact']) {
    // Generous time limits here: this test is about the trees, not the time (a
    // loaded CI machine must not turn a slow call into a failure); the
    // shipped limits are checked below and the timing lives in bench/.
    const m = shippedManifest(id);
    await host.load({ manifest: { ...m, limits: { ...m.limits, callMs: 2000, killMs: 5000 } }, wasm: guestWasm(id), grants: ['ui.layout'] });
  }
});
test.after(async () => {
  await host.close();
});

async function layout(id: string, inp: unknown): Promise<LayoutTree> {
  const r = await host.callJson(id, HOOK, inp, LayoutTreeSchema);
  if (r.status !== 'ok') throw new Error(`${id} on_layout(${JSON.stringify(inp)}): ${r.status}${r.status === 'fault' ? ` ${r.fault.kind}: ${r.fault.message}` : ''}`);
  // callJson validated it already; parse again here so the test states the contract itself.
  const parsed = LayoutTreeSchema.safeParse(r.value);
  assert.ok(parsed.success, `${id}: ${JSON.stringify(parsed.error?.issues)}`);
  return r.value as LayoutTree;
}

test('manifests: hook on_layout behind ui.layout, tight limits', () => {
  for (const id of ['layout-default', 'layout-compact']) {
    const m = shippedManifest(id);
    assert.equal(m.hooks, ['on_layout']);
    assert.equal(m.capabilities, ['ui.layout']);
    assert.ok(m.limits.callMs <= 20, `${id} callMs ${m.limits.callMs}`);
    assert.ok(m.limits.memoryMiB <= 4, `${id} memoryMiB ${m.limits.memoryMiB}`);
    assert.is(m.limits.storageKiB, 0);
  }
});

test('every status x role x certificate x viewport gives a valid tree', async () => {
  let calls = 0;
  let maxUs = 0;
  for (const id of ['layout-default', 'layout-compact']) {
    for (const status of STATUSES) {
      for (const role of ROLES) {
        for (const certificatePending of [false, true]) {
          for (const viewport of VIEWPORTS) {
            const r = await host.callJson(id, HOOK, input({ status, role, certificatePending, viewport, serverName: status === 'connected' ? 'Den' : null }), LayoutTreeSchema);
            assert.is(r.status, 'ok', `${id} ${status} ${role} ${certificatePending} ${viewport.width}: ${JSON.stringify(r)}`);
            if (r.status === 'ok') maxUs = Math.max(maxUs, r.elapsedUs);
            calls++;
          }
        }
      }
    }
  }
  assert.is(calls, 2 * STATUSES.length * ROLES.length * 2 * VIEWPORTS.length);
  process.stderr.write(`layout guests: ${calls} calls, slowest ${maxUs} us (the manifests allow 20 ms)\n`);
  assert.is(log.atLeast(40).filter((l) => String(l.plugin ?? '').startsWith('layout-')).length, 0, JSON.stringify(log.atLeast(40)));
});

test('default, signed out: connect form and errors, no session widgets; a pending certificate comes first', async () => {
  for (const status of ['disconnected', 'connecting', 'failed'] as const) {
    for (const viewport of VIEWPORTS) {
      const t = await layout('layout-default', input({ status, role: null, serverName: null, viewport }));
      const w = widgets(t.root);
      assert.ok(w.includes('connect') && w.includes('errors'), `${status}: ${w}`);
      for (const s of ['channels', 'chat', 'voice', 'users']) assert.not.ok(w.includes(s), `${status} shows ${s}`);
      assert.not.ok(w.includes('certificate'));
      const c = await layout('layout-default', input({ status, role: null, serverName: null, viewport, certificatePending: true }));
      assert.is(widgets(c.root)[0], 'certificate', `${status}: certificate on top: ${widgets(c.root)}`);
    }
  }
});

test('default, connected and wide: connection bar, channels | chat | (voice, users, stats), tabs for devices/plugins', async () => {
  for (const status of ['connected', 'reconnecting'] as const) {
    const t = await layout('layout-default', input({ status, viewport: { width: 1280, height: 800 } }));
    const w = widgets(t.root);
    assert.is(w[0], 'connection');
    assert.equal([...w].sort(), [...WIDGETS].filter((x) => x !== 'connect' && x !== 'certificate').sort(), `every session widget once: ${w}`);
    const rows = find(t.root, (n) => n.kind === 'row');
    assert.is(rows.length, 1);
    const row = rows[0]! as Extract<LayoutNode, { children: LayoutNode[] }>;
    assert.is(row.children.length, 3);
    assert.equal(widgets(row.children[0]!), ['channels']);
    assert.equal(widgets(row.children[1]!), ['chat']);
    assert.equal(widgets(row.children[2]!), ['voice', 'users', 'stats']);
    const tabs = find(t.root, (n) => n.kind === 'tabs') as Extract<LayoutNode, { kind: 'tabs' }>[];
    assert.is(tabs.length, 1);
    assert.equal(tabs[0]!.tabs.map((x) => x.label), ['Devices', 'Plugins', 'Errors']);
    assert.is(t.title, 'Hearth: Den');
    const cert = await layout('layout-default', input({ status, certificatePending: true }));
    assert.equal(widgets(cert.root).slice(0, 2), ['connection', 'certificate']);
  }
  const re = await layout('layout-default', input({ status: 'reconnecting' }));
  assert.ok(find(re.root, (n) => n.kind === 'text' && n.style === 'notice' && /reconnecting/i.test(n.text)).length === 1, 'a reconnecting notice');
  const mod = await layout('layout-default', input({ role: 'moderator' }));
  assert.ok(find(mod.root, (n) => n.kind === 'panel' && n.title === 'User and moderation').length === 1, 'moderators see the moderation title');
});

test('default adapts to the viewport: narrow puts every section in tabs, no row', async () => {
  const narrow = await layout('layout-default', input({ viewport: { width: 759, height: 900 } }));
  assert.is(find(narrow.root, (n) => n.kind === 'row').length, 0);
  const tabs = find(narrow.root, (n) => n.kind === 'tabs') as Extract<LayoutNode, { kind: 'tabs' }>[];
  assert.is(tabs.length, 1);
  assert.equal(tabs[0]!.tabs.map((x) => x.label), ['Channels', 'Chat', 'User', 'Devices', 'Plugins', 'Statistics', 'Errors']);
  const wide = await layout('layout-default', input({ viewport: { width: 760, height: 900 } }));
  assert.is(find(wide.root, (n) => n.kind === 'row').length, 1);
  const signedOutNarrow = await layout('layout-default', input({ status: 'disconnected', role: null, viewport: { width: 400, height: 700 } }));
  assert.is(find(signedOutNarrow.root, (n) => n.kind === 'row').length, 0);
  const signedOutWide = await layout('layout-default', input({ status: 'disconnected', role: null }));
  assert.is(find(signedOutWide.root, (n) => n.kind === 'row').length, 1);
});

test('compact differs visibly: one dense column, no panels, its own title and theme', async () => {
  for (const status of STATUSES) {
    for (const viewport of VIEWPORTS) {
      const inp = input({ status, viewport });
      const c = await layout('layout-compact', inp);
      const d = await layout('layout-default', inp);
      assert.not.equal(c, d);
      assert.is(c.title, 'Hearth (compact)');
      assert.equal(c.theme, { scale: 0.9, density: 'compact', contrast: 'normal' });
      assert.is(find(c.root, (n) => n.kind === 'row').length, 0, 'no rows');
      assert.is(find(c.root, (n) => n.kind === 'panel').length, 0, 'no panels');
      assert.is(c.root.kind, 'column');
      const w = widgets(c.root);
      if (status === 'connected' || status === 'reconnecting') {
        assert.equal(w.slice(0, 4), ['connection', 'voice', 'channels', 'chat']);
        assert.equal([...w].sort(), [...WIDGETS].filter((x) => x !== 'connect' && x !== 'certificate').sort());
      } else {
        assert.equal(w, ['connect', 'errors']);
      }
    }
  }
  const cert = await layout('layout-compact', input({ status: 'disconnected', certificatePending: true }));
  assert.is(widgets(cert.root)[0], 'certificate');
});

test('input that is not a LayoutInput still gets a valid layout (the signed-out one)', async () => {
  for (const inp of ['nonsense', 42, null, [], {}, { status: 7, viewport: 'wide' }]) {
    for (const id of ['layout-default', 'layout-compact']) {
      const t = await layout(id, inp);
      assert.ok(widgets(t.root).includes('connect'), `${id} ${JSON.stringify(inp)}`);
    }
  }
});

test('strings from the input are escaped into valid JSON', async () => {
  const t = await layout('layout-default', input({ serverName: 'Den "quoted" \\ back\nslash ✓ 🎧' }));
  assert.is(t.title, 'Hearth: Den "quoted" \\ back\nslash ✓ 🎧');
});

test.run();
