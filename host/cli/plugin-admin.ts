// `hearth plugin list|install|enable|disable|remove`: manage a server's
// installed plugins in its data directory. A running server notices the
// change within plugins.pollMs and loads, reloads or unloads the plugin.
import { createInterface } from 'node:readline/promises';
import { readFileSync } from 'node:fs';
import { withStore, CliError } from './admin.js';
import { out, table } from './output.js';
import { installPlugin, readPluginSource, removePlugin } from '../server/plugins/installed.js';
import { CAPABILITIES } from '../plugins/capabilities.js';
import { loadPluginFiles } from '../plugins/manifest.js';
import { installedManifestPath } from '../server/plugins/installed.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function pluginInstall(
  dataDir: string,
  manifestPath: string,
  o: { grant?: string; grantRequested?: boolean; config?: string; wasm?: string },
): Promise<void> {
  const files = await readPluginSource(manifestPath, o.wasm).catch((err: Error) => {
    throw new CliError(err.message);
  });
  const m = files.manifest;
  out(`${m.name} (${m.id}) ${m.version}${m.author ? ` by ${m.author}` : ''}`);
  if (m.description) out(`  ${m.description}`);
  out(`  hooks: ${m.hooks.join(', ') || '-'}${m.commands.length ? `; commands: ${m.commands.map((c) => `/${c}`).join(', ')}` : ''}`);
  out(`  asks for capabilities: ${m.capabilities.join(', ') || '(none)'}`);
  out(`  limits: ${m.limits.memoryMiB} MiB memory, ${m.limits.callMs} ms per call (killed at ${m.limits.killMs} ms)`);
  let grants: string[];
  if (o.grant !== undefined) {
    grants = o.grant.split(',').map((g) => g.trim()).filter(Boolean);
    const unknown = grants.filter((g) => !(CAPABILITIES as readonly string[]).includes(g));
    if (unknown.length) throw new CliError(`unknown capabilities: ${unknown.join(', ')} (known: ${CAPABILITIES.join(', ')})`);
  } else if (o.grantRequested) {
    grants = [...m.capabilities];
  } else if (process.stdin.isTTY && m.capabilities.length > 0) {
    if (!(await confirm(`Grant ${m.id} all of: ${m.capabilities.join(', ')}? [y/N] `))) {
      throw new CliError('not installed: capabilities were not granted (use --grant cap1,cap2 to grant some)');
    }
    grants = [...m.capabilities];
  } else if (m.capabilities.length > 0) {
    throw new CliError('capabilities must be granted explicitly: --grant cap1,cap2 or --grant-requested');
  } else {
    grants = [];
  }
  let config: Record<string, unknown> = {};
  if (o.config !== undefined) {
    try {
      config = JSON.parse(readFileSync(o.config, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`cannot read config ${o.config}: ${(err as Error).message}`);
    }
  }
  await withStore(dataDir, async (store, log) => {
    const r = await installPlugin(dataDir, store, files, grants, config);
    log.info({ plugin: m.id, version: m.version, sha256: m.wasm.sha256, granted: r.granted, notGranted: r.notGranted }, 'plugin installed by admin CLI');
    out(`installed ${m.id} into ${r.dir}`);
    out(`  granted: ${r.granted.join(', ') || '(none)'}${r.notGranted.length ? `; NOT granted: ${r.notGranted.join(', ')}` : ''}`);
    out('  a running server loads it within a second');
  });
}

export async function pluginList(dataDir: string): Promise<void> {
  await withStore(dataDir, async (store) => {
    const rows = [];
    for (const p of store.plugins.all()) {
      const files = await loadPluginFiles(installedManifestPath(dataDir, p.id)).catch((err: Error) => err);
      rows.push({
        id: p.id,
        version: files instanceof Error ? '?' : files.manifest.version,
        enabled: p.enabled ? 'yes' : 'no',
        grants: p.grants.join(',') || '-',
        status: files instanceof Error ? `broken: ${files.message.slice(0, 60)}` : files.manifest.wasm.sha256 === p.grantedSha256 ? 'ok' : 'wasm changed since granted',
      });
    }
    out(table(rows, ['id', 'version', 'enabled', 'grants', 'status']));
  });
}

export async function pluginSetEnabled(dataDir: string, id: string, enabled: boolean): Promise<void> {
  await withStore(dataDir, (store, log) => {
    if (!store.plugins.setEnabled(id, enabled)) throw new CliError(`no plugin "${id}" installed`);
    log.info({ plugin: id, enabled }, `plugin ${enabled ? 'enabled' : 'disabled'} by admin CLI`);
    out(`${id} ${enabled ? 'enabled' : 'disabled'}`);
  });
}

export async function pluginRemove(dataDir: string, id: string): Promise<void> {
  await withStore(dataDir, async (store, log) => {
    if (!(await removePlugin(dataDir, store, id))) throw new CliError(`no plugin "${id}" installed`);
    log.info({ plugin: id }, 'plugin removed by admin CLI');
    out(`${id} removed (with its stored data)`);
  });
}
