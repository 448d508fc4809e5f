// The layout host: a layout guest that faults (garbage, a tree that breaks the
// schema, a trap, an endless loop) gives the built-in layout plus a visible
// notice; a slow one gives the fallback first and its own layout once it
// answers in time (retried after RETRY_MS); the built-in layout is valid for
// every status; the choice follows the state (layout.select) without a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinLayout } from '../../host/client/ui/builtin-layout.js';
import { LayoutTreeSchema, type LayoutInput, type LayoutNode, type LayoutTree } from '../../host/client/ui/components.js';
import { BUILTIN, DEFAULT_LAYOUT, followLayoutChoice, layoutInputOf, LayoutHost, shippedLayouts, type LayoutChoice, type LayoutState } from '../../host/client/ui/layout-host.js';
import { existsSync } from 'node:fs';
import { Latest } from '../../host/client/core/latest.js';
import { emptySnapshot, type ClientSnapshot } from '../../host/client/core/snapshot.js';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { captureLogger, eventually, repoRoot, testGuestWasm } from '../plugins/helpers.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir('hearth-layout-');

function choice(id: string, limits: Record<string, number> = {}): LayoutChoice {
  const wasm = testGuestWasm('badlayout');
  const manifestPath = join(dir, `${id}.json`);
  writeFileSync(
    manifestPath,
    JSON.stringify({
      manifestVersion: 1,
      id,
      name: `test layout ${id}`,
      version: '0.0.1',
      wasm: { file: 'badlayout.wasm', sha256: sha256Hex(wasm) },
      hooks: ['on_layout'],
      capabilities: ['ui.layout'],
      limits: { memoryMiB: 4, callMs: 50, killMs: 1000, overrunLimit: 10, storageKiB: 0, ...limits },
    }),
  );
  return { id, name: id, description: '', manifestPath, wasmPath: join(repoRoot, 'test', 'plugins', 'guests', 'build', 'badlayout.wasm') };
}

function snapshot(status: ClientSnapshot['connection']['status'], serverName: string | null = null): ClientSnapshot {
  const s = emptySnapshot();
  s.connection.status = status;
  s.connection.server = serverName ? { host: '127.0.0.1', port: 1, name: serverName } : null;
  return s;
}

const texts = (n: LayoutNode): string[] =>
  n.kind === 'text' ? [n.text] : n.kind === 'row' || n.kind === 'column' ? n.children.flatMap(texts) : n.kind === 'tabs' ? n.tabs.flatMap((t) => texts(t.child)) : n.kind === 'panel' ? texts(n.child) : [];
const notices = (t: LayoutTree): string[] => {
  const out: string[] = [];
  const walk = (n: LayoutNode): void => {
    if (n.kind === 'text' && n.style === 'notice') out.push(n.text);
    else if (n.kind === 'row' || n.kind === 'column') n.children.forEach(walk);
    else if (n.kind === 'tabs') n.tabs.forEach((x) => walk(x.child));
    else if (n.kind === 'panel') walk(n.child);
  };
  walk(t.root);
  return out;
};
const widgets = (n: LayoutNode): string[] =>
  n.kind === 'widget' ? [n.widget] : n.kind === 'row' || n.kind === 'column' ? n.children.flatMap(widgets) : n.kind === 'tabs' ? n.tabs.flatMap((t) => widgets(t.child)) : n.kind === 'panel' ? widgets(n.child) : [];

async function withHost(c: LayoutChoice, first: ClientSnapshot, fn: (h: LayoutHost, states: LayoutState[]) => Promise<void>): Promise<void> {
  const log = captureLogger();
  const h = await LayoutHost.start({ logger: log.logger, choices: [c], active: c.id });
  const states: LayoutState[] = [];
  h.on('layout', (s: LayoutState) => states.push(s));
  try {
    h.update(first);
    await fn(h, states);
  } finally {
    await h.close();
  }
}

test('the built-in layout is valid against LayoutTreeSchema for every status, role, viewport and notice', () => {
  const statuses: LayoutInput['status'][] = ['disconnected', 'connecting', 'connected', 'reconnecting', 'failed'];
  const roles: LayoutInput['role'][] = [null, 'guest', 'member', 'moderator', 'admin'];
  for (const status of statuses)
    for (const role of roles)
      for (const width of [0, 400, 1280, 4000])
        for (const certificatePending of [false, true])
          for (const notice of [undefined, 'Layout plugin x failed: ' + 'y'.repeat(3000)]) {
            const input: LayoutInput = { status, role, certificatePending, serverName: 'S', viewport: { width, height: 800 }, users: 3, channels: 2, errors: certificatePending ? 1 : 0 };
            const tree = builtinLayout(input, notice);
            const r = LayoutTreeSchema.safeParse(tree);
            assert.ok(r.success, `${status}/${role}/${width}: ${r.success ? '' : r.error.message}`);
            const w = widgets(tree.root);
            assert.ok(w.includes('connection'), 'connection state is always shown');
            if (status === 'connected') for (const need of ['channels', 'chat', 'voice', 'users', 'devices', 'plugins', 'stats']) assert.ok(w.includes(need), `${need} when connected`);
            else assert.ok(w.includes('connect'), 'the connect form when not connected');
            if (certificatePending) assert.ok(w.includes('certificate'));
            if (notice) assert.is(notices(tree).length, 1);
            // No widget twice (a control would have two accessible names).
            assert.is(new Set(w).size, w.length, w.join(','));
          }
});

test('a healthy answer is drawn; it is asked again only when the LayoutInput changes', async () => {
  await withHost(choice('layout-good'), snapshot('disconnected'), async (h, states) => {
    await eventually(() => h.state.plugin === 'layout-good' && h.state.tree.title === 'badlayout disconnected', 15_000, 'the guest layout');
    const n = states.length;
    for (let i = 0; i < 50; i++) h.update(snapshot('disconnected'));
    await new Promise((r) => setTimeout(r, 100));
    assert.is(states.length, n, 'unchanged input: not asked again');
    h.update(snapshot('connected', 'Home'));
    await eventually(() => h.state.tree.title === 'badlayout connected', 15_000, 'the new layout after a status change');
    assert.is(h.state.notice, null);
  });
});

for (const [mode, expect] of [
  ['garbage', /bad_output.*not JSON/],
  ['badtree', /bad_output/],
  ['trap', /trap/],
  ['loop', /timeout|overruns|slow/],
] as const) {
  test(`a layout guest that answers "${mode}" falls back to the built-in layout with a notice`, async () => {
    await withHost(choice(`layout-${mode}`, mode === 'loop' ? { killMs: 300 } : {}), snapshot('connected', mode), async (h) => {
      await eventually(() => h.state.notice !== null && (mode !== 'loop' || /failed/.test(h.state.notice)), 15_000, `the fallback for ${mode}`);
      assert.is(h.state.plugin, null);
      assert.match(h.state.notice!, expect);
      assert.match(h.state.notice!, new RegExp(`^Layout plugin layout-${mode} (failed|is slow)`));
      assert.match(h.state.notice!, /showing the built-in layout$/);
      assert.ok(LayoutTreeSchema.safeParse(h.state.tree).success);
      assert.equal(notices(h.state.tree), [h.state.notice]);
      assert.ok(widgets(h.state.tree.root).includes('chat'), 'the built-in connected layout');
      // Later inputs keep the built-in layout and its notice; nothing goes blank.
      h.update(snapshot('reconnecting', mode));
      assert.ok(widgets(h.state.tree.root).includes('connect'));
      assert.equal(notices(h.state.tree).length, 1);
    });
  });
}

test('a slow layout guest: the built-in layout with a notice first, then its own layout once it answers in time', async () => {
  await withHost(choice('layout-slow', { callMs: 50, killMs: 20_000 }), snapshot('connected', 'slow'), async (h, states) => {
    await eventually(() => h.state.notice !== null, 15_000, 'the fallback');
    assert.match(h.state.notice!, /^Layout plugin layout-slow is slow \(no answer within 50 ms\)/);
    assert.is(h.state.plugin, null);
    await eventually(() => h.state.plugin === 'layout-slow', 15_000, 'the guest layout after a retry');
    assert.is(h.state.notice, null);
    assert.is(h.state.tree.title, 'badlayout connected');
    assert.ok(states.some((s) => s.notice !== null) && states.at(-1)!.plugin === 'layout-slow');
  });
});

test('switching the layout at run time (layout.select in the state) loads the new plugin without a restart', async () => {
  const log = captureLogger();
  const good = choice('layout-one');
  const bad = choice('layout-two');
  const h = await LayoutHost.start({ logger: log.logger, choices: [good, bad], active: null });
  const state = new Latest<ClientSnapshot>(snapshot('disconnected'));
  const stop = followLayoutChoice(state, h);
  try {
    h.update(state.get());
    // null = the default: layout-default when present, else the first choice.
    await eventually(() => h.state.plugin === 'layout-one', 15_000, 'the first choice as the default');
    const s = snapshot('connected', 'garbage');
    s.layout = { active: 'layout-two', selections: 1 };
    state.set(s);
    h.update(s);
    await eventually(() => h.state.notice !== null && /layout-two failed/.test(h.state.notice), 15_000, 'layout-two (which answers garbage here) fell back');
    const s2 = snapshot('connected', 'Home');
    s2.layout = { active: BUILTIN, selections: 2 };
    state.set(s2);
    h.update(s2);
    await eventually(() => h.active === BUILTIN && h.state.notice === null && h.state.plugin === null, 15_000, 'the built-in layout, chosen');
    assert.equal(
      h.list().map((c) => [c.id, c.active]),
      [
        [BUILTIN, true],
        ['layout-one', false],
        ['layout-two', false],
      ],
    );
    const s3 = snapshot('connected', 'Home');
    s3.layout = { active: 'layout-one', selections: 3 };
    state.set(s3);
    h.update(s3);
    await eventually(() => h.state.plugin === 'layout-one' && h.state.tree.title === 'badlayout connected', 15_000, 'back to layout-one');
    // layout-two faulted; choosing it again (same id) restarts it.
    const s4 = snapshot('connected', 'Home');
    s4.layout = { active: 'layout-two', selections: 4 };
    state.set(s4);
    h.update(s4);
    await eventually(() => h.state.plugin === 'layout-two', 15_000, 'layout-two once more');
    const s5 = snapshot('connected', 'garbage');
    s5.layout = { active: 'layout-two', selections: 4 };
    state.set(s5);
    h.update(s5);
    await eventually(() => h.state.notice !== null && /layout-two failed/.test(h.state.notice), 15_000, 'layout-two faulted');
    const s6 = snapshot('connected', 'Home');
    s6.layout = { active: 'layout-two', selections: 5 };
    state.set(s6);
    h.update(s6);
    await eventually(() => h.state.plugin === 'layout-two' && h.state.notice === null, 15_000, 'the same layout chosen again: restarted');
  } finally {
    stop();
    await h.close();
  }
});

test('LayoutInput: viewport in 100 px buckets, counts, certificate, role', () => {
  const s = snapshot('connected', 'Home');
  s.connection.certificate = { hostKey: 'h:1', pinned: null, offered: 'AA', changed: false };
  const i = layoutInputOf(s, { width: 1279, height: 801 });
  assert.equal(i.viewport, { width: 1200, height: 800 });
  assert.is(i.certificatePending, true);
  assert.is(i.role, null);
  assert.is(i.status, 'connected');
});

test('the shipped layout plugins (manifests/layout-*.json) load, answer valid trees for every status, and the default is layout-default', async () => {
  const choices = shippedLayouts(repoRoot);
  if (!choices.every((c) => existsSync(join(repoRoot, 'guests', c.id, 'build', `${c.id}.wasm`))) || choices.length === 0) {
    process.stdout.write('  (shipped layouts not built: skipped)\n');
    return;
  }
  assert.is(choices[0]!.id, DEFAULT_LAYOUT);
  const log = captureLogger();
  const h = await LayoutHost.start({ logger: log.logger, choices, active: null });
  try {
    for (const c of choices) {
      await h.select(c.id);
      for (const status of ['disconnected', 'connecting', 'connected', 'reconnecting', 'failed'] as const) {
        h.update(snapshot(status, 'Home'));
        await eventually(() => h.state.plugin === c.id && h.state.tree.title !== undefined && JSON.stringify(h.state.tree) !== '' && h.state.notice === null, 15_000, `${c.id} ${status}`);
        assert.ok(LayoutTreeSchema.safeParse(h.state.tree).success);
      }
    }
  } finally {
    await h.close();
  }
});

test.run();
