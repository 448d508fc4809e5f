// `hearth plugin dev DIR`: the edit-run loop in one step. Builds the plugin,
// installs it into the data directory with the grants its manifest asks for
// (an admin running this on their own machine is approving their own code),
// and hot-reloads it on a local server started in this process (127.0.0.1):
// every save of a source file or of manifest.json rebuilds, reinstalls and
// reloads it. With serve: false, a server already running on the data
// directory picks the new version up within its plugins.pollMs.
//
// A build error is printed and the previous version keeps running; the next
// save tries again. Only content changes count (the build's own write of
// wasm.sha256 into manifest.json does not trigger another build).
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { loadServerConfig } from '../config/server-config.js';
import { HearthServer } from '../server/server.js';
import { pluginInstall } from './plugin-admin.js';
import { pluginBuild, PluginDevError, type DevOutput } from './plugin-dev.js';

export interface DevOptions {
  dataDir: string;
  /** Start a local server in this process (default true). */
  serve?: boolean;
  /** Its port (0: any free one). */
  port?: number;
  /** Debounce of file events (ms). */
  debounceMs?: number;
}

export interface DevSession extends EventEmitter {
  /** The local server (null with serve: false). */
  readonly server: HearthServer | null;
  readonly port: number;
  /** SHA-256 fingerprint of the local server's certificate ('' with serve: false). */
  readonly fingerprint: string;
  /** Resolves after the build in progress (if any) finished. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const SOURCE_EXT = /\.(ts|c|h|js|json)$/;

/** A fingerprint of the sources: every source file, and the manifest without its wasm field. */
async function sourceFingerprint(dir: string): Promise<string> {
  const h = createHash('sha256');
  const names = (await readdir(dir)).filter((n) => SOURCE_EXT.test(n) && n !== 'package-lock.json').sort();
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    if (name === 'manifest.json') {
      try {
        const m = JSON.parse(text) as Record<string, unknown>;
        delete m.wasm;
        text = JSON.stringify(m);
      } catch {
        // half-written: hash it as it is; the build reports it
      }
    }
    h.update(name).update('\0').update(text).update('\0');
  }
  return h.digest('hex');
}

/**
 * Starts the loop. Emits 'reloaded' ({ sha256 }) after each successful
 * build + install (+ reload on the local server) and 'failed' ({ message })
 * after a failed one.
 */
export async function pluginDev(dir: string, o: DevOptions, out: DevOutput = process.stdout): Promise<DevSession> {
  const root = resolve(dir);
  const dataDir = resolve(o.dataDir);
  const events = new EventEmitter();
  let server: HearthServer | null = null;
  let port = 0;
  let fingerprint = '';
  if (o.serve !== false) {
    server = new HearthServer(loadServerConfig({ dataDir, host: '127.0.0.1', port: o.port ?? 0 }));
    const info = await server.start();
    port = info.port;
    fingerprint = info.fingerprint;
    out.write(`local server on 127.0.0.1:${port} (data ${dataDir}, certificate fingerprint ${info.fingerprint})\n`);
    if (info.bootstrapToken) out.write(`first admin: bootstrap token ${info.bootstrapToken}\n`);
  }
  let last = '';
  let running: Promise<void> = Promise.resolve();
  let pending = false;

  const cycle = async (): Promise<void> => {
    const print = await sourceFingerprint(root);
    if (print === last) return;
    last = print;
    try {
      const built = await pluginBuild(root, out);
      await pluginInstall(dataDir, join(root, 'manifest.json'), { grantRequested: true });
      // The local server reloads now rather than at its next poll.
      await server?.plugins?.sync();
      const id = (JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as { id: string }).id;
      const status = server?.plugins?.list().find((p) => p.id === id);
      if (status && status.state !== 'running') throw new PluginDevError(`installed, but the server did not start it: ${status.lastFault?.message ?? status.state}`);
      out.write(`reloaded ${id} (sha256 ${built.sha256.slice(0, 16)}…)${server ? '' : '; the server running on this data directory picks it up at its next poll'}\n`);
      events.emit('reloaded', { sha256: built.sha256 });
    } catch (err) {
      const message = (err as Error).message;
      out.write(`build failed (the previous version keeps running): ${message}\n`);
      events.emit('failed', { message });
    }
  };
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      running = running.then(cycle);
    }, o.debounceMs ?? 150);
  };

  running = running.then(cycle);
  let watcher: FSWatcher | null = watch(root, (_event, name) => {
    if (name === null || SOURCE_EXT.test(name)) schedule();
  });
  out.write(`watching ${root} (Ctrl-C to stop)\n`);

  return Object.assign(events, {
    server,
    port,
    fingerprint,
    idle: async () => {
      // A change may be debounced still: wait for it to be scheduled and run.
      while (pending) await new Promise((r) => setTimeout(r, 20));
      await running;
    },
    stop: async () => {
      watcher?.close();
      watcher = null;
      await running;
      await server?.stop();
    },
  });
}
