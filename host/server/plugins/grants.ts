// Grants belong to the wasm they were approved for (its sha256).
//
// Why: replacing a plugin's wasm and its manifest's sha256 used to reload the
// new code with the old grants. Now a wasm whose sha256 is not the approved
// one gets no grant and is not loaded ("awaiting approval") until the admin
// approves it (`hearth plugin approve ID`, or installs it again); the CLI
// shows what the new version asks for and what changed since the approved
// manifest (changesSince). A development mode, off unless the admin turns it
// on for that plugin (`hearth plugin dev-regrant ID on`), re-grants a new
// wasm automatically: the earlier grants, as far as the new version still
// asks for them; a capability it newly asks for still needs an approval.
import type { PluginRecord } from '../../db/plugins.js';
import type { PluginManifest } from '../../plugins/manifest.js';

export type GrantDecision =
  | { kind: 'approved'; grants: string[] }
  | { kind: 'dev-regrant'; grants: string[]; notGranted: string[] }
  | { kind: 'awaiting-approval'; asks: string[] };

export function decideGrants(rec: PluginRecord, m: PluginManifest): GrantDecision {
  if (m.wasm.sha256 === rec.grantedSha256) return { kind: 'approved', grants: rec.grants };
  if (!rec.devRegrant) return { kind: 'awaiting-approval', asks: [...m.capabilities] };
  const grants = m.capabilities.filter((c) => rec.grants.includes(c));
  return { kind: 'dev-regrant', grants, notGranted: m.capabilities.filter((c) => !grants.includes(c)) };
}

/** The parts of a manifest an approval is about, as stored with the grants. */
export function approvedView(m: PluginManifest): Record<string, unknown> {
  return { version: m.version, sha256: m.wasm.sha256, name: m.name, hooks: m.hooks, commands: m.commands, capabilities: m.capabilities, limits: m.limits };
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** What changed from the approved manifest to `m`, one line each (empty: nothing an approval is about). */
export function changesSince(approved: Record<string, unknown> | null, m: PluginManifest): string[] {
  if (!approved) return ['(the approved manifest was not recorded: installed before Hearth kept it)'];
  const now = approvedView(m);
  const out: string[] = [];
  if (approved.version !== now.version) out.push(`version: ${String(approved.version)} -> ${String(now.version)}`);
  if (approved.sha256 !== now.sha256) out.push(`wasm sha256: ${String(approved.sha256).slice(0, 16)}… -> ${m.wasm.sha256.slice(0, 16)}…`);
  if (approved.name !== now.name) out.push(`name: ${String(approved.name)} -> ${m.name}`);
  for (const key of ['capabilities', 'hooks', 'commands'] as const) {
    const before = list(approved[key]);
    const after = list(now[key]);
    const added = after.filter((x) => !before.includes(x));
    const removed = before.filter((x) => !after.includes(x));
    if (added.length) out.push(`${key} added: ${added.join(', ')}`);
    if (removed.length) out.push(`${key} removed: ${removed.join(', ')}`);
  }
  if (JSON.stringify(approved.limits) !== JSON.stringify(now.limits)) out.push(`limits: ${JSON.stringify(approved.limits)} -> ${JSON.stringify(now.limits)}`);
  return out;
}
