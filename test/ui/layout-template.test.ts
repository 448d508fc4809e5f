// `hearth plugin new NAME --kind layout` (sdk/templates/layout): the template
// builds with the SDK and, loaded into a PluginHost with ui.layout, answers
// on_layout with a valid LayoutTree for signed-out, connected and narrow
// windows, and puts the certificate prompt on top when one is pending.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pluginBuild, pluginNew } from '../../host/cli/plugin-dev.js';
import { LayoutTreeSchema, type LayoutInput, type LayoutNode } from '../../host/client/ui/components.js';
import type { HookName } from '../../host/plugins/capabilities.js';
import { parseManifest } from '../../host/plugins/manifest.js';
import { PluginHost } from '../../host/plugins/runtime.js';
import { captureLogger } from '../plugins/helpers.js';

const test = suite('ui: layout template');

function widgets(n: LayoutNode, out: string[] = []): string[] {
  if (n.kind === 'widget') out.push(n.widget);
  else if (n.kind === 'row' || n.kind === 'column') n.children.forEach((c) => widgets(c, out));
  else if (n.kind === 'tabs') n.tabs.forEach((t) => widgets(t.child, out));
  else if (n.kind === 'panel') widgets(n.child, out);
  return out;
}

test('the layout template builds and answers on_layout with valid trees', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hearth-layout-template-'));
  const host = new PluginHost({ logger: captureLogger().logger });
  try {
    const sink = { write: () => undefined };
    const dir = await pluginNew('my-layout', 'layout', tmp, sink);
    await pluginBuild(dir, sink);
    const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    assert.equal(manifest.hooks, ['on_layout']);
    assert.equal(manifest.capabilities, ['ui.layout']);
    await host.load({ manifest, wasm: new Uint8Array(readFileSync(join(dir, 'my-layout.wasm'))), grants: ['ui.layout'] });
    const base: LayoutInput = { status: 'connected', role: 'member', certificatePending: false, serverName: 'Den', viewport: { width: 1200, height: 800 }, users: 2, channels: 3, errors: 0 };
    const call = async (over: Partial<LayoutInput>) => {
      const r = await host.callJson('my-layout', 'on_layout' as HookName, { ...base, ...over }, LayoutTreeSchema);
      if (r.status !== 'ok') throw new Error(`on_layout: ${JSON.stringify(r)}`);
      assert.ok(LayoutTreeSchema.safeParse(r.value).success);
      return r.value;
    };
    const out = await call({ status: 'disconnected', role: null });
    assert.equal(widgets(out.root), ['connect', 'errors']);
    assert.is(widgets((await call({ status: 'disconnected', role: null, certificatePending: true })).root)[0], 'certificate');
    const wide = await call({});
    assert.equal(widgets(wide.root).slice(0, 4), ['connection', 'voice', 'channels', 'chat']);
    assert.is(wide.title, 'My Layout');
    const narrow = await call({ viewport: { width: 500, height: 800 } });
    assert.not.equal(narrow, wide);
  } finally {
    await host.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
