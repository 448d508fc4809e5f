// The server's side of plugins: keeps the PluginHost in step with what the
// admin installed (<data>/plugins + the plugins table), feeds it the server's
// events (chat, commands, joins, leaves, timer ticks, state) and carries out
// what plugins ask for (bot messages, kicks, mutes). A faulting plugin is
// disabled by the runtime and reported here; the server keeps serving.
import { statSync } from 'node:fs';
import type { Logger } from '../../log/logger.js';
import type { Store } from '../../db/store.js';
import { PluginHost, type FaultReport, type PluginAction, type PluginInfo } from '../../plugins/runtime.js';
import { SqliteKvStore } from '../../plugins/storage.js';
import { loadPluginFiles } from '../../plugins/manifest.js';
import type { ChatDecision } from '../../plugins/hooks.js';
import { ROOT_CHANNEL_ID } from '../../db/channels.js';
import type { Hub } from '../hub.js';
import { chatView } from '../hub.js';
import type { SessionInfo } from '../connection.js';
import { TokenBucket } from '../token-bucket.js';
import { installedManifestPath } from './installed.js';

export interface PluginManagerOptions {
  dataDir: string;
  store: Store;
  hub: Hub;
  log: Logger;
  /** How often installed plugins are compared with the files and the database. */
  pollMs: number;
  /** Period of the on_timer hook. */
  timerMs: number;
  /** Bot messages per plugin: burst, refilled at `chatPerSecond`. */
  chatBurst: number;
  chatPerSecond: number;
  historyKeepPerChannel: number;
}

interface Running {
  signature: string;
  name: string;
  chatBucket: TokenBucket;
}

export interface PluginStatus extends PluginInfo {
  lastFault: FaultReport | null;
}

export class PluginManager {
  readonly host: PluginHost;
  private readonly running = new Map<string, Running>();
  private readonly faults = new Map<string, FaultReport>();
  private readonly lastChannel = new Map<number, number>();
  private pollTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private tick = 0;
  private syncing: Promise<void> = Promise.resolve();
  private statePending = false;

  constructor(private readonly o: PluginManagerOptions) {
    this.host = new PluginHost({ logger: o.log, kv: new SqliteKvStore(o.store.db) });
    this.host.on('action', (a: PluginAction) => this.act(a));
    this.host.on('fault', (f: FaultReport) => {
      this.faults.set(f.pluginId, f);
      // Runtime already logged the details; this line names what the server does about it.
      o.log.error({ plugin: f.pluginId, kind: f.kind, hook: f.hook }, `plugin ${f.pluginId} faulted (${f.kind}) and is disabled until re-enabled`);
    });
    o.hub.presenceListeners.push((s, ev) => this.onPresence(s, ev));
  }

  async start(): Promise<void> {
    await this.sync();
    this.publishState();
    this.pollTimer = setInterval(() => void this.sync(), this.o.pollMs);
    this.pollTimer.unref();
    this.tickTimer = setInterval(() => void this.host.timer({ tick: ++this.tick, now: Date.now() }), this.o.timerMs);
    this.tickTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.syncing;
    await this.host.close();
  }

  /** Installed, enabled plugins as the runtime sees them, with their last fault. */
  list(): PluginStatus[] {
    return this.host.list().map((p) => ({ ...p, lastFault: this.faults.get(p.id) ?? null }));
  }

  /**
   * Brings the runtime in line with the database and the files: loads what is
   * enabled, unloads what is not, reloads what changed. Serialised: one pass at a time.
   */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch((err: unknown) => this.o.log.error({ err }, 'plugin sync failed'));
    return this.syncing;
  }

  private signatureOf(id: string, rec: { grants: string[]; config: Record<string, unknown>; updatedAt: number }): string | null {
    try {
      const manifest = statSync(installedManifestPath(this.o.dataDir, id));
      return JSON.stringify([manifest.mtimeMs, manifest.size, rec.grants, rec.config, rec.updatedAt]);
    } catch {
      return null;
    }
  }

  private async syncOnce(): Promise<void> {
    const records = this.o.store.plugins.all();
    const wanted = new Map(records.filter((r) => r.enabled).map((r) => [r.id, r]));
    for (const id of [...this.running.keys()]) {
      if (!wanted.has(id)) {
        await this.host.unload(id);
        this.running.delete(id);
        this.o.log.info({ plugin: id }, `plugin ${id} unloaded (disabled or removed)`);
      }
    }
    for (const rec of wanted.values()) {
      const signature = this.signatureOf(rec.id, rec);
      const current = this.running.get(rec.id);
      if (current && current.signature === signature) continue;
      if (current) {
        await this.host.unload(rec.id);
        this.running.delete(rec.id);
        this.o.log.info({ plugin: rec.id }, `plugin ${rec.id} changed on disk or in the database; reloading`);
      }
      if (signature === null) {
        this.o.log.warn({ plugin: rec.id }, `plugin ${rec.id} is enabled but its files are missing`);
        continue;
      }
      try {
        const files = await loadPluginFiles(installedManifestPath(this.o.dataDir, rec.id));
        if (files.manifest.id !== rec.id) throw new Error(`manifest id "${files.manifest.id}" does not match its directory "${rec.id}"`);
        // Grants belong to the wasm they were given for. A changed wasm keeps
        // at most those grants: whatever new capability it asks for is not granted.
        if (files.manifest.wasm.sha256 !== rec.grantedSha256) {
          const asked = files.manifest.capabilities.filter((c) => !rec.grants.includes(c));
          this.o.log.warn({ plugin: rec.id, notGranted: asked }, `plugin ${rec.id}: wasm changed since it was granted; it keeps only its earlier grants`);
        }
        await this.host.load({ manifest: files.manifest, wasm: files.wasm, grants: rec.grants, config: rec.config });
        this.running.set(rec.id, { signature: signature, name: files.manifest.name, chatBucket: new TokenBucket(this.o.chatPerSecond, this.o.chatBurst) });
        this.faults.delete(rec.id);
      } catch (err) {
        // Remember the signature so a broken plugin is not retried every poll; a change retries it.
        this.o.log.error({ plugin: rec.id, err: (err as Error).message }, `plugin ${rec.id} could not be loaded`);
        this.faults.set(rec.id, { pluginId: rec.id, kind: 'crash', hook: null, message: (err as Error).message, at: new Date().toISOString() });
      }
    }
  }

  // ---- events in ------------------------------------------------------------------

  /** on_chat through every intercepting plugin (dispatch order: install order). Fails open. */
  chat(s: SessionInfo, channelId: number, text: string): Promise<ChatDecision> {
    if (this.running.size === 0) return Promise.resolve({ action: 'allow' });
    return this.host.chat({ channelId, user: { id: s.userId, name: s.username }, text, ts: Date.now() });
  }

  /** A "/name args" message; resolves to the reply of the plugin that owns the command, if any. */
  async command(s: SessionInfo, channelId: number, text: string): Promise<{ pluginId: string; reply: string } | null> {
    const m = /^\/([a-z0-9_-]{1,32})(?:\s+([\s\S]*))?$/i.exec(text);
    if (!m || this.running.size === 0) return null;
    return this.host.command({ command: m[1]!.toLowerCase(), args: (m[2] ?? '').trim(), user: { id: s.userId, name: s.username }, channelId, ts: Date.now() });
  }

  private onPresence(s: SessionInfo, ev: 'join' | 'update' | 'leave'): void {
    this.publishState();
    if (this.running.size === 0) {
      if (ev === 'leave') this.lastChannel.delete(s.sessionId);
      else this.lastChannel.set(s.sessionId, s.channelId);
      return;
    }
    const user = { id: s.userId, name: s.username };
    const prev = this.lastChannel.get(s.sessionId);
    const now = Date.now();
    if (ev === 'leave') {
      this.lastChannel.delete(s.sessionId);
      void this.host.leave({ user, channelId: prev ?? s.channelId, ts: now });
      return;
    }
    if (prev === s.channelId) return; // a mute or deafen, not a move
    this.lastChannel.set(s.sessionId, s.channelId);
    if (prev !== undefined) void this.host.leave({ user, channelId: prev, ts: now });
    void this.host.join({ user, channelId: s.channelId, ts: now });
  }

  /** The state plugins with state.read see; coalesced so a burst of changes publishes once. */
  publishState(): void {
    if (this.statePending) return;
    this.statePending = true;
    setImmediate(() => {
      this.statePending = false;
      this.host.publishState({
        channels: this.o.hub.tree.all().map((c) => ({ id: c.id, name: c.name, parentId: c.parentId })),
        users: this.o.hub.online.map((c) => ({
          id: c.session.userId,
          name: c.session.username,
          channelId: c.session.channelId,
          muted: c.session.selfMute || c.session.serverMute,
        })),
      });
    });
  }

  // ---- actions out ----------------------------------------------------------------

  /** Posts a message as a plugin's bot identity (sender id null, sender name = the plugin's name). */
  postAsBot(pluginId: string, channelId: number, text: string): boolean {
    const r = this.running.get(pluginId);
    const channel = this.o.hub.tree.get(channelId) ?? this.o.hub.tree.get(ROOT_CHANNEL_ID)!;
    if (!r) return false;
    if (!r.chatBucket.take()) {
      this.o.log.warn({ plugin: pluginId }, `plugin ${pluginId}: bot message dropped (rate limit)`);
      return false;
    }
    const rec = this.o.store.chat.addChannelMessage(channel.id, null, r.name, text.slice(0, 4000));
    this.o.store.chat.prune(channel.id, this.o.historyKeepPerChannel);
    this.o.log.info({ plugin: pluginId, channelId: channel.id, messageId: rec.id }, 'bot message');
    const msg = { type: 'chat.message' as const, message: chatView(rec) };
    for (const c of this.o.hub.inChannel(channel.id)) c.send(msg);
    return true;
  }

  private act({ pluginId, effect }: PluginAction): void {
    if (effect.kind === 'chat.send') {
      this.postAsBot(pluginId, effect.channelId ?? ROOT_CHANNEL_ID, effect.text);
      return;
    }
    const name = this.running.get(pluginId)?.name ?? pluginId;
    const targets = this.o.hub.sessionsOfUser(effect.userId);
    this.o.log.info({ plugin: pluginId, action: effect.action, userId: effect.userId, sessions: targets.length, reason: effect.reason }, `plugin ${pluginId}: ${effect.action}`);
    for (const t of targets) {
      if (t.session.role === 'admin') continue; // a plugin never acts on an admin
      if (effect.action === 'kick') t.disconnect('KICKED', `kicked by ${name}${effect.reason ? `: ${effect.reason}` : ''}`, { reason: effect.reason });
      else {
        t.session.serverMute = effect.action === 'mute';
        this.o.hub.updated(t);
      }
    }
  }
}
