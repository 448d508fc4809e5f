// `hearth plugin list|install|enable|disable|remove|approve|dev-regrant`:
// manage a server's installed plugins in its data directory. A running
// server notices the change within plugins.pollMs and loads, reloads or
// unloads the plugin. `list` shows what the server last reported (runtime
// state, last fault) from the plugins table, so it works with the server
// running or not.
import { createInterface } from 'node:readline/promises';
import { readFileSync } from 'node:fs';
import { withStore, CliError } from './admin.js';
import { out, table } from './output.js';
import { installPlugin, readPluginSource, removePlugin } from '../server/plugins/installed.js';
import { CAPABILITIES } from '../plugins/capabilities.js';
import { loadPluginFiles, type PluginManifest } from '../plugins/manifest.js';
import { installedManifestPath } from '../server/plugins/installed.js';
import { approvedView, changesSince } from '../server/plugins/grants.js';
import { truncate } from '../plugins/plugin-log.js';
import type { PluginRecord } from '../db/plugins.js';

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

/** The status column: what the server reported, and why a plugin is not running. */
function statusOf(p: PluginRecord, files: Awaited<ReturnType<typeof loadPluginFiles>> | Error, now = Date.now()): string {
  if (files instanceof Error) return `broken: ${files.message}`;
  if (!p.enabled) return 'off (disabled)';
  // The short part first: the table cuts the cell.
  if (p.faulty) return `faulty (hearth plugin enable ${p.id} to try again): ${p.lastFault?.message ?? '?'}`;
  if (files.manifest.wasm.sha256 !== p.grantedSha256 && !p.devRegrant) return `awaiting approval: new wasm (hearth plugin approve ${p.id})`;
  const state = p.runtimeState ?? 'not loaded yet';
  if (state === 'failed') {
    const retry = p.retryAt !== null ? `, next attempt in ${Math.max(0, Math.round((p.retryAt - now) / 1000))} s` : '';
    return `failed ${p.failures}x${retry}: ${p.lastFault?.message ?? '?'}`;
  }
  if (state === 'disabled' && p.lastFault) return `faulted (${p.lastFault.kind}): ${p.lastFault.message}`;
  return state;
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
        dev: p.devRegrant ? 'dev-regrant' : '-',
        status: truncate(statusOf(p, files), 200),
      });
    }
    out(table(rows, ['id', 'version', 'enabled', 'grants', 'dev', 'status']));
  });
}

export async function pluginSetEnabled(dataDir: string, id: string, enabled: boolean): Promise<void> {
  await withStore(dataDir, (store, log) => {
    const before = store.plugins.get(id);
    if (!before || !store.plugins.setEnabled(id, enabled)) throw new CliError(`no plugin "${id}" installed`);
    log.info({ plugin: id, enabled, wasFaulty: before.faulty }, `plugin ${enabled ? 'enabled' : 'disabled'} by admin CLI`);
    out(`${id} ${enabled ? 'enabled' : 'disabled'}${enabled && before.faulty ? ' (its fault mark is cleared: the server tries to load it again)' : ''}`);
  });
}

/** Grants for an approval: --grant, --grant-requested, or a yes on a terminal. */
async function chooseGrants(m: PluginManifest, o: { grant?: string; grantRequested?: boolean }, question: string): Promise<string[]> {
  if (o.grant !== undefined) {
    const grants = o.grant.split(',').map((g) => g.trim()).filter(Boolean);
    const unknown = grants.filter((g) => !(CAPABILITIES as readonly string[]).includes(g));
    if (unknown.length) throw new CliError(`unknown capabilities: ${unknown.join(', ')} (known: ${CAPABILITIES.join(', ')})`);
    return grants;
  }
  if (o.grantRequested) return [...m.capabilities];
  if (m.capabilities.length === 0) return [];
  if (process.stdin.isTTY && (await confirm(question))) return [...m.capabilities];
  throw new CliError('capabilities must be granted explicitly: --grant cap1,cap2 or --grant-requested');
}

/**
 * `hearth plugin approve ID`: shows what the installed wasm asks for and
 * what changed since the approved version, then records the grants for this
 * wasm's sha256 (grants.ts). Also how an admin changes the grants of the
 * current version.
 */
export async function pluginApprove(dataDir: string, id: string, o: { grant?: string; grantRequested?: boolean }): Promise<void> {
  await withStore(dataDir, async (store, log) => {
    const rec = store.plugins.get(id);
    if (!rec) throw new CliError(`no plugin "${id}" installed`);
    const files = await loadPluginFiles(installedManifestPath(dataDir, id)).catch((err: Error) => {
      throw new CliError(err.message);
    });
    const m = files.manifest;
    const same = m.wasm.sha256 === rec.grantedSha256;
    out(`${m.name} (${m.id}) ${m.version}, wasm sha256 ${m.wasm.sha256}`);
    out(same ? '  this wasm is the approved one (changing its grants)' : '  this wasm is NOT the one its grants were approved for');
    out(`  asks for capabilities: ${m.capabilities.join(', ') || '(none)'}`);
    out(`  granted now: ${rec.grants.join(', ') || '(none)'}${same ? '' : ' (for the earlier wasm)'}`);
    const changes = same ? [] : changesSince(rec.grantedManifest, m);
    for (const c of changes) out(`  changed: ${c}`);
    const grants = await chooseGrants(m, o, `Grant ${m.id} ${m.version} all of: ${m.capabilities.join(', ')}? [y/N] `);
    const granted = m.capabilities.filter((c) => grants.includes(c));
    store.plugins.grant(id, granted, m.wasm.sha256, approvedView(m));
    log.info({ plugin: id, sha256: m.wasm.sha256, granted, changes }, 'plugin approved by admin CLI');
    out(`approved ${id} ${m.version}; granted: ${granted.join(', ') || '(none)'}`);
  });
}

/** `hearth plugin dev-regrant ID on|off`: development mode for one plugin (grants.ts). */
export async function pluginDevRegrant(dataDir: string, id: string, value: string): Promise<void> {
  if (value !== 'on' && value !== 'off') throw new CliError('dev-regrant takes "on" or "off"');
  await withStore(dataDir, (store, log) => {
    if (!store.plugins.setDevRegrant(id, value === 'on')) throw new CliError(`no plugin "${id}" installed`);
    log.warn({ plugin: id, devRegrant: value === 'on' }, `plugin development mode ${value} by admin CLI`);
    out(value === 'on' ? `${id}: a new wasm is now re-granted its earlier grants automatically (development only; "off" to stop)` : `${id}: a new wasm needs an approval again`);
  });
}

export async function pluginRemove(dataDir: string, id: string): Promise<void> {
  await withStore(dataDir, async (store, log) => {
    if (!(await removePlugin(dataDir, store, id))) throw new CliError(`no plugin "${id}" installed`);
    log.info({ plugin: id }, 'plugin removed by admin CLI');
    out(`${id} removed (with its stored data)`);
  });
}
