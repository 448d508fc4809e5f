// Shared pieces of the plugin tests: paths to the built guests, manifests for
// the hostile test guests, a logger whose lines the tests can read, and a
// host preloaded with the healthy "noop" neighbour.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { Capability, HookName } from '../../host/plugins/capabilities.js';
import { parseManifest, sha256Hex, type PluginLimits, type PluginManifest } from '../../host/plugins/manifest.js';
import { PluginHost, type FaultReport, type PluginHostOptions } from '../../host/plugins/runtime.js';

/** dist/test/plugins -> the repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function guestWasm(id: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, 'guests', id, 'build', `${id}.wasm`)));
}

export function testGuestWasm(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, 'test', 'plugins', 'guests', 'build', `${name}.wasm`)));
}

export function shippedManifest(id: string): PluginManifest {
  return parseManifest(JSON.parse(readFileSync(join(repoRoot, 'manifests', `${id}.json`), 'utf8')));
}

export interface TestPluginSpec {
  id?: string;
  hooks: HookName[];
  capabilities?: Capability[];
  commands?: string[];
  limits?: Partial<PluginLimits>;
}

/** A manifest for a test guest, with the sha256 of its built wasm. */
export function testManifest(guest: string, spec: TestPluginSpec, wasm = testGuestWasm(guest)): PluginManifest {
  return parseManifest({
    manifestVersion: 1,
    id: spec.id ?? guest,
    name: `test guest ${guest}`,
    version: '0.0.1',
    wasm: { file: `${guest}.wasm`, sha256: sha256Hex(wasm) },
    hooks: spec.hooks,
    capabilities: spec.capabilities ?? [],
    commands: spec.commands ?? [],
    limits: { memoryMiB: 4, callMs: 50, killMs: 1000, overrunLimit: 10, storageKiB: 16, ...spec.limits },
  });
}

export interface LogLine {
  level: number;
  msg: string;
  plugin?: string;
  [k: string]: unknown;
}

export interface CapturedLogger {
  logger: Logger;
  lines: LogLine[];
  /** Lines at `level` or above (pino numbers: 30 info, 40 warn, 50 error). */
  atLeast(level: number): LogLine[];
}

export function captureLogger(): CapturedLogger {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines, atLeast: (level) => lines.filter((l) => l.level >= level) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(5);
  }
}

/** Resolves with the next fault report of `pluginId`. */
export function nextFault(host: PluginHost, pluginId: string, timeoutMs = 5000): Promise<FaultReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      host.off('fault', onFault);
      reject(new Error(`no fault from ${pluginId} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onFault = (f: FaultReport) => {
      if (f.pluginId !== pluginId) return;
      clearTimeout(timer);
      host.off('fault', onFault);
      resolve(f);
    };
    host.on('fault', onFault);
  });
}

/** A host with the healthy "noop" plugin loaded (answers /ping with "pong"). */
export async function hostWithNoop(opts: Partial<PluginHostOptions> = {}): Promise<{ host: PluginHost; log: CapturedLogger }> {
  const log = captureLogger();
  const host = new PluginHost({ logger: log.logger, ...opts });
  const manifest = shippedManifest('noop');
  await host.load({ manifest, wasm: guestWasm('noop'), grants: manifest.capabilities });
  return { host, log };
}

export const user = { id: 1, name: 'ann' };

export function pingEvent() {
  return { command: 'ping', args: '', user, channelId: 1, ts: Date.now() };
}

/** The neighbour still answers: /ping -> pong from noop. */
export async function neighbourAnswers(host: PluginHost): Promise<boolean> {
  const r = await host.command(pingEvent());
  return r !== null && r.pluginId === 'noop' && r.reply === 'pong';
}
