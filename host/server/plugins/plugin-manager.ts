// The server's side of plugins: keeps the PluginHost in step with what the
// admin installed (<data>/plugins + the plugins table), feeds it the server's
// events (chat, commands, joins, leaves, timer ticks, state) and carries out
// what plugins ask for (bot messages, kicks, mutes). A faulting plugin is
// disabled by the runtime and reported here; the server keeps serving.
// When a plugin is loaded again after a failed load: load-policy.ts. Which
// grants a wasm gets: grants.ts. What the server knows about each plugin
// (runtime state, last fault) is written to its row, for `hearth plugin list`.
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
import { dispatchChat, dispatchCommand, type ChatDispatchDeps, type FailClosed } from './chat-dispatch.js';
import { crashedOrHung, LoadBackoff, loadFault } from './load-policy.js';
import { decideGrants, approvedView } from './grants.js';
import type { PluginRecord, StoredFault } from '../../db/plugins.js';
import { PluginError } from '../../plugins/errors.js';
import { truncate } from '../../plugins/plugin-log.js';

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
  /** Chat filters that hold a message until they answer, and refuse it when they cannot (chat-dispatch.ts). Default: none (fail-open). */
  failClosed?: FailClosed;
}

interface Running {
  signature: string;
  sha256: string;
  name: string;
  chatBucket: TokenBucket;
  commands: readonly string[];
}

export interface PluginStatus extends PluginInfo {
  lastFault: FaultReport | null;
}

export class PluginManager {
  readonly host: PluginHost;
  private readonly running = new Map<string, Running>();
  private readonly faults = new Map<string, FaultReport>();
  private readonly backoff = new LoadBackoff();
  private readonly lastChannel = new Map<number, number>();
  private pollTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private tick = 0;
  private syncing: Promise<void> = Promise.resolve();
  private statePending = false;
  private readonly chatDeps: ChatDispatchDeps;

  constructor(private readonly o: PluginManagerOptions) {
    this.host = new PluginHost({ logger: o.log, kv: new SqliteKvStore(o.store.db) });
    this.host.on('action', (a: PluginAction) => this.act(a));
    this.host.on('fault', (f: FaultReport) => {
      this.faults.set(f.pluginId, f);
      o.store.plugins.setRuntimeState(f.pluginId, 'disabled', { kind: f.kind, hook: f.hook, message: f.message, at: f.at, sha256: this.shaOf(f.pluginId) });
      // Runtime already logged the details; this line names what the server does about it.
      o.log.error({ plugin: f.pluginId, kind: f.kind, hook: f.hook }, `plugin ${f.pluginId} faulted (${f.kind}) and is disabled until re-enabled`);
    });
    o.hub.presenceListeners.push((s, ev) => this.onPresence(s, ev));
    this.chatDeps = {
      host: this.host,
      log: o.log,
      failClosed: o.failClosed ?? false,
      loaded: () => [...this.running].map(([id, r]) => ({ id, commands: r.commands })),
    };
  }

  async start(): Promise<void> {
    // A crash marker still set: this server's previous run died while loading that plugin.
    for (const rec of this.o.store.plugins.all()) {
      if (rec.loadingSha256 === null) continue;
      const message = `the server stopped while loading this plugin (wasm ${rec.loadingSha256.slice(0, 16)}…): it may have crashed the server; not loaded again until re-enabled (hearth plugin enable ${rec.id})`;
      this.o.store.plugins.markFaulty(rec.id, { kind: 'load:CRASHED_SERVER', hook: null, message, at: new Date().toISOString(), sha256: rec.loadingSha256 });
      this.o.log.error({ plugin: rec.id, sha256: rec.loadingSha256 }, `plugin ${rec.id}: ${message}`);
    }
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
    // `hearth plugin list` reads these rows: say that nothing runs any more.
    for (const id of this.running.keys()) this.o.store.plugins.setRuntimeState(id, 'stopped (server not running)');
    this.running.clear();
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
        // Out of `running` first: commands routed meanwhile find no owner instead of a half-unloaded one.
        this.running.delete(id);
        await this.host.unload(id);
        this.o.log.info({ plugin: id }, `plugin ${id} unloaded (disabled or removed)`);
      }
    }
    for (const r of records) {
      if (!r.enabled && r.runtimeState !== 'off') this.o.store.plugins.setRuntimeState(r.id, 'off');
    }
    for (const rec of wanted.values()) await this.syncOne(rec);
  }

  private shaOf(id: string): string | null {
    return this.running.get(id)?.sha256 ?? null;
  }

  private async unloadIfRunning(id: string, why: string): Promise<void> {
    if (!this.running.has(id)) return;
    this.running.delete(id);
    await this.host.unload(id);
    this.o.log.info({ plugin: id }, `plugin ${id} unloaded (${why})`);
  }

  /** One enabled plugin: keeps it running, (re)loads it when due, or records why not. */
  private async syncOne(rec: PluginRecord): Promise<void> {
    const id = rec.id;
    if (rec.faulty) {
      await this.unloadIfRunning(id, 'marked faulty');
      return;
    }
    const signature = this.signatureOf(id, rec);
    const current = this.running.get(id);
    if (current && current.signature === signature) return;
    if (current) await this.unloadIfRunning(id, 'changed on disk or in the database; reloading');
    if (signature === null) {
      if (this.backoff.hold(id, 'missing')) {
        this.o.log.warn({ plugin: id }, `plugin ${id} is enabled but its files are missing`);
        this.o.store.plugins.setRuntimeState(id, 'missing');
      }
      return;
    }
    if (!this.backoff.due(id, signature)) return;
    let sha: string | null = null;
    try {
      const files = await loadPluginFiles(installedManifestPath(this.o.dataDir, id));
      const m = files.manifest;
      sha = m.wasm.sha256;
      if (m.id !== id) throw new Error(`manifest id "${m.id}" does not match its directory "${id}"`);
      const decision = decideGrants(rec, m);
      if (decision.kind === 'awaiting-approval') {
        if (this.backoff.hold(id, signature)) {
          const message = `its wasm (sha256 ${sha.slice(0, 16)}…) is not the one its grants were approved for; not loaded until an admin approves it (hearth plugin approve ${id})`;
          this.o.log.warn({ plugin: id, sha256: sha, asks: decision.asks }, `plugin ${id}: ${message}`);
          this.o.store.plugins.setRuntimeState(id, 'awaiting-approval', { kind: 'awaiting-approval', hook: null, message, at: new Date().toISOString(), sha256: sha });
        }
        return;
      }
      if (decision.kind === 'dev-regrant') {
        // Development mode, turned on by the admin for this plugin: the new wasm keeps the earlier grants.
        this.o.store.plugins.grant(id, decision.grants, sha, approvedView(m));
        this.o.log.warn({ plugin: id, sha256: sha, grants: decision.grants, notGranted: decision.notGranted }, `plugin ${id}: development mode re-granted ${decision.grants.join(', ') || 'nothing'} to a new wasm`);
        rec = this.o.store.plugins.get(id) ?? rec;
      }
      this.refuseTakenBotName(m.name, m.capabilities, id);
      // The crash marker: if this load takes the process down, the next start knows which plugin did it.
      this.o.store.plugins.setLoading(id, sha);
      try {
        await this.host.load({ manifest: m, wasm: files.wasm, grants: decision.grants, config: rec.config });
      } finally {
        this.o.store.plugins.setLoading(id, null);
      }
      this.running.set(id, { signature: this.signatureOf(id, rec) ?? signature, name: m.name, sha256: sha, chatBucket: new TokenBucket(this.o.chatPerSecond, this.o.chatBurst), commands: files.manifest.commands });
      this.faults.delete(id);
      this.backoff.clear(id);
      this.o.store.plugins.setBackoff(id, 0, null);
      this.o.store.plugins.setRuntimeState(id, 'running');
    } catch (err) {
      this.loadFailed(id, signature, sha, err);
    }
  }

  private loadFailed(id: string, signature: string, sha: string | null, err: unknown): void {
    const fault = loadFault(err, sha);
    this.faults.set(id, { pluginId: id, kind: 'crash', hook: null, message: fault.message, at: fault.at });
    if (crashedOrHung(err)) {
      this.o.store.plugins.markFaulty(id, fault);
      this.o.log.error({ plugin: id, code: (err as PluginError).code, sha256: sha }, `plugin ${id}: its load crashed or hung its sandbox; marked faulty, not loaded again until re-enabled (hearth plugin enable ${id}): ${fault.message}`);
      return;
    }
    const { failures, retryAt } = this.backoff.fail(id, signature);
    this.o.store.plugins.setBackoff(id, failures, retryAt);
    this.o.store.plugins.setRuntimeState(id, 'failed', fault);
    this.o.log.error({ plugin: id, failures, retryInMs: retryAt - Date.now() }, `plugin ${id} could not be loaded (${failures} in a row; next attempt in ${Math.round((retryAt - Date.now()) / 1000)} s): ${fault.message}`);
  }

  /** A bot must not pass for a user: a name that is (or looks like) an account's is refused. */
  private refuseTakenBotName(name: string, capabilities: readonly string[], id: string): void {
    if (!capabilities.includes('chat.inject')) return;
    if (this.botNameTaken(name)) {
      throw new PluginError('BOT_NAME_TAKEN', `plugin ${id}: its bot name "${truncate(name, 80)}" is (or looks like) the name of an account; rename the plugin (manifest "name")`, id);
    }
  }

  private botNameTaken(name: string): boolean {
    return Boolean(this.o.store.users.findByName(name) ?? this.o.store.users.findConfusable(name));
  }

  // ---- events in ------------------------------------------------------------------

  /** on_chat through every intercepting plugin (install order); fail-open or fail-closed per chat-dispatch.ts. */
  chat(s: SessionInfo, channelId: number, text: string): Promise<ChatDecision> {
    if (this.running.size === 0) return Promise.resolve({ action: 'allow' });
    return dispatchChat(this.chatDeps, { channelId, user: { id: s.userId, name: s.username }, text, ts: Date.now() });
  }

  /** A "/name args" message; the reply of the plugin that owns the command, if any. Throws COMMAND_UNAVAILABLE when the owner cannot answer (never posted as chat). */
  async command(s: SessionInfo, channelId: number, text: string): Promise<{ pluginId: string; reply: string } | null> {
    const m = /^\/([a-z0-9_-]{1,32})(?:\s+([\s\S]*))?$/i.exec(text);
    if (!m || this.running.size === 0) return null;
    return dispatchCommand(this.chatDeps, { command: m[1]!.toLowerCase(), args: (m[2] ?? '').trim(), user: { id: s.userId, name: s.username }, channelId, ts: Date.now() });
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
          // hearth_moderate refuses an admin with the reason (plugins never act on admins).
          role: c.session.role,
        })),
      });
    });
  }

  // ---- actions out ----------------------------------------------------------------

  /**
   * Posts a message as a plugin's bot identity: sender id null, sender name =
   * the plugin's name, and `bot` = its id, so that clients can mark it. A
   * given channel that does not exist drops the message (it used to go to the
   * root); so does a name an account took since the plugin was loaded.
   */
  postAsBot(pluginId: string, channelId: number | undefined, text: string): boolean {
    const r = this.running.get(pluginId);
    if (!r) return false;
    const channel = this.o.hub.tree.get(channelId ?? ROOT_CHANNEL_ID);
    if (!channel) {
      this.o.log.warn({ plugin: pluginId, channelId }, `plugin ${pluginId}: bot message dropped (no channel ${channelId})`);
      return false;
    }
    if (this.botNameTaken(r.name)) {
      this.o.log.warn({ plugin: pluginId }, `plugin ${pluginId}: bot message dropped (an account now has the bot's name "${truncate(r.name, 80)}")`);
      return false;
    }
    if (!r.chatBucket.take()) {
      this.o.log.warn({ plugin: pluginId }, `plugin ${pluginId}: bot message dropped (rate limit)`);
      return false;
    }
    const rec = this.o.store.chat.addChannelMessage(channel.id, null, r.name, text.slice(0, 4000), Date.now(), pluginId);
    this.o.store.chat.prune(channel.id, this.o.historyKeepPerChannel);
    this.o.log.info({ plugin: pluginId, channelId: channel.id, messageId: rec.id }, 'bot message');
    const msg = { type: 'chat.message' as const, message: chatView(rec) };
    for (const c of this.o.hub.inChannel(channel.id)) c.send(msg);
    return true;
  }

  private act({ pluginId, effect }: PluginAction): void {
    if (effect.kind === 'chat.send') {
      this.postAsBot(pluginId, effect.channelId, effect.text);
      return;
    }
    const name = this.running.get(pluginId)?.name ?? pluginId;
    const targets = this.o.hub.sessionsOfUser(effect.userId);
    this.o.log.info({ plugin: pluginId, action: effect.action, userId: effect.userId, sessions: targets.length, reason: effect.reason }, `plugin ${pluginId}: ${effect.action}`);
    for (const t of targets) {
      if (t.session.role === 'admin') {
        // The guest was told already when its snapshot knew (host-api.ts); this catches a stale snapshot.
        this.o.log.warn({ plugin: pluginId, userId: effect.userId }, `plugin ${pluginId}: ${effect.action} of an admin refused`);
        continue;
      }
      if (effect.action === 'kick') t.disconnect('KICKED', `kicked by ${name}${effect.reason ? `: ${effect.reason}` : ''}`, { reason: effect.reason });
      else {
        t.session.serverMute = effect.action === 'mute';
        this.o.hub.updated(t);
      }
    }
  }
}
