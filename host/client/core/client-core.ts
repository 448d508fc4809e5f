// The client core: the actor that owns the client's one master state.
//
//   UI / headless / tests ──push(action)──▶ ActionQueue ──▶ handle() (one at a time)
//                                                            │
//        ControlClient (TLS, this thread) ◀──────────────────┤
//        AudioEngine (its own thread: devices, Opus, UDP) ◀──┘
//                 │ events, reports
//                 ▼
//           rebuild snapshot ──▶ Latest<ClientSnapshot> ──▶ every reader
//
// Senders never wait for the network: push() returns at once. Readers only
// ever see the newest snapshot (watch semantics).
import type { Logger } from 'pino';
import { ControlClient, ServerError } from '../control/control-client.js';
import { FingerprintMismatchError, KnownHosts } from '../control/known-hosts.js';
import { AudioEngine } from '../audio/engine.js';
import type { EngineReport, EngineSettings } from '../audio/engine-protocol.js';
import type { ServerMessage, WelcomeResult } from '../../protocol/server-messages.js';
import { ActionQueue } from './action-queue.js';
import { initialView, type ClientCoreOptions } from './core-options.js';
import type { ClientAction } from './actions.js';
import { Backoff } from './backoff.js';
import { ClientPlugins, discoverClientPlugins, PLUGIN_ACTIONS } from './client-plugins.js';
import { Latest } from './latest.js';
import { saveSettings } from './settings-sync.js';
import { buildSnapshot, type CoreView } from './snapshot-builder.js';
import { errorOf, reportVoice } from './voice-report.js';
import { handleLocalAction, LOCAL_ACTIONS, type LocalActionContext } from './local-actions.js';
import { handleUiAction, MAX_CHAT, mergeChat, serversView, UI_ACTIONS, type UiActionContext } from './ui-actions.js';
import { emptySnapshot, type ClientError, type ClientSnapshot } from './snapshot.js';

export type { ClientCoreOptions } from './core-options.js';

/** Disconnect codes after which reconnecting would only repeat the refusal. */
const FINAL_CODES = new Set(['KICKED', 'BANNED', 'SESSION_REPLACED', 'AUTH_FAILED']);
const MAX_ERRORS = 20;
const REPORT_VOICE_MS = 1000;
/** Actions whose result settings.json keeps. */
const PERSISTED = new Set<ClientAction['type']>(['voice.mode', 'user.volume', 'user.mute', 'output.volume']);

export class ClientCore {
  readonly state = new Latest<ClientSnapshot>(emptySnapshot());
  private readonly queue = new ActionQueue<ClientAction>();
  private readonly log: Logger;
  private readonly view: CoreView;
  private control: ControlClient | null = null;
  private lastConnect: Extract<ClientAction, { type: 'connect' }> | null = null;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private voiceReportTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The capture chain's plugins: found, granted, switched (client-plugins.ts). */
  private readonly plugins: ClientPlugins;
  private readonly consumer: Promise<void>;

  private constructor(readonly engine: AudioEngine, private readonly opts: ClientCoreOptions, found: Awaited<ReturnType<typeof discoverClientPlugins>>) {
    this.log = opts.logger.child({ component: 'client' });
    this.backoff = new Backoff(opts.reconnect?.baseMs, opts.reconnect?.maxMs);
    const { view, saved, ui } = initialView(opts);
    this.view = view;
    this.plugins = new ClientPlugins({ engine, store: opts.store, log: this.log, addError: (code, message) => void this.addError(code, message) }, opts.chain ?? [], found);
    view.clientPlugins = this.plugins;
    engine.on('report', (r: EngineReport) => {
      this.view.engine = r;
      this.publish();
    });
    engine.on('failed', (err: Error) => this.addError('AUDIO_ENGINE_FAILED', err.message));
    engine.on('devices', (d: CoreView['available']) => {
      this.view.available = d;
      this.publish();
    });
    if (saved?.error) this.addError('CONFIG_INVALID', `${saved.error.message} (running on default settings; the file is left as it is)`);
    if (ui.error) this.addError('CONFIG_INVALID', `${ui.error.message} (no saved servers shown; the file is left as it is)`);
    this.consumer = this.queue.consume(
      (a) => this.handle(a),
      (err, a) => this.addError('ACTION_FAILED', `${a.type}: ${(err as Error).message}`),
    );
  }

  static async start(opts: ClientCoreOptions): Promise<ClientCore> {
    const found = opts.pluginDirs ? await discoverClientPlugins(opts.pluginDirs, opts.logger.child({ component: 'client' })) : [];
    const engine = await AudioEngine.start(opts.logger);
    const core = new ClientCore(engine, opts, found);
    engine.devices(opts.capture ?? { kind: 'none' }, opts.playback ?? { kind: 'none' }, opts.extraEchoDelaySamples ?? 0);
    core.plugins.apply();
    core.pushSettings();
    return core;
  }

  /** Puts an action on the queue; never waits. */
  push(action: ClientAction): void {
    this.queue.push(action);
  }

  // ---- the consumer -----------------------------------------------------------

  private async handle(a: ClientAction): Promise<void> {
    const v = this.view;
    if (LOCAL_ACTIONS.has(a.type)) handleLocalAction(this.localCtx, a);
    else if (UI_ACTIONS.has(a.type)) await handleUiAction(this.uiCtx, a);
    else if (PLUGIN_ACTIONS.has(a.type)) this.plugins.handle(a);
    switch (a.type) {
      case 'connect':
        this.lastConnect = a;
        this.backoff.reset();
        await this.connect(a, false);
        break;
      case 'disconnect':
        this.lastConnect = null;
        this.cancelRetry();
        this.dropConnection('disconnected');
        break;
      case 'trust.accept':
        new KnownHosts(this.opts.knownHostsFile).pin?.(a.hostKey, a.fingerprint);
        v.conn.certificate = null;
        v.servers = serversView(this.opts.store).value;
        if (this.lastConnect) await this.connect(this.lastConnect, false);
        break;
      case 'trust.forget':
        if (!new KnownHosts(this.opts.knownHostsFile).forget(a.hostKey)) this.addError('NOT_FOUND', `no certificate is pinned for ${a.hostKey}`);
        v.servers = serversView(this.opts.store).value;
        break;
      case 'join':
        await this.control?.request('channel.join', { channelId: a.channelId });
        break;
      case 'chat.send': {
        const channelId = a.channelId ?? this.selfChannel();
        if (channelId !== null) await this.control?.request('chat.send', { channelId, text: a.text });
        break;
      }
      case 'chat.direct':
        await this.control?.request('chat.direct', { userId: a.userId, text: a.text });
        break;
      case 'self.mute':
      case 'self.deaf': {
        if (a.type === 'self.mute') v.settings.selfMute = a.on;
        else {
          v.settings.deaf = a.on;
          // Deafening mutes as well, as in every voice chat.
          if (a.on) v.settings.selfMute = true;
        }
        this.pushSettings();
        await this.control?.request('presence.set', { selfMute: v.settings.selfMute, selfDeaf: v.settings.deaf });
        break;
      }
      case 'request': {
        const tag = a.tag ?? a.method;
        try {
          const result = await this.requireControl().request(a.method, a.fields);
          v.requests[tag] = { ok: true, result };
        } catch (err) {
          v.requests[tag] = { ok: false, error: this.errorOf(err) };
        }
        break;
      }
    }
    if (PERSISTED.has(a.type)) this.persist();
    this.publish();
  }

  private readonly localCtx: LocalActionContext = {
    view: () => this.view,
    engine: () => this.engine,
    opts: () => this.opts,
    pushSettings: () => this.pushSettings(),
    addError: (code, message) => void this.addError(code, message),
  };

  private readonly uiCtx: UiActionContext = {
    view: () => this.view,
    store: () => this.opts.store,
    control: () => this.control,
    selfChannel: () => this.selfChannel(),
    push: (a) => this.push(a),
    addError: (code, message) => void this.addError(code, message),
    quit: () => this.opts.onQuit?.(),
  };

  /** Saves what the user changed to settings.json (when the core has a store). */
  private persist(): void {
    const store = this.opts.store;
    if (!store) return;
    try {
      saveSettings(store, this.view.settings, this.view.userMix);
    } catch (err) {
      this.addError('CONFIG_NOT_SAVED', (err as Error).message);
    }
  }

  private requireControl(): ControlClient {
    if (!this.control) throw new Error('not connected');
    return this.control;
  }

  private selfChannel(): number | null {
    const self = this.control?.state.self;
    if (!self) return null;
    return this.control?.state.users.get(self.sessionId)?.channelId ?? null;
  }

  // ---- the network actor ------------------------------------------------------

  private async connect(a: Extract<ClientAction, { type: 'connect' }>, retrying: boolean): Promise<void> {
    const v = this.view;
    this.dropConnection(retrying ? 'reconnecting' : 'connecting');
    v.conn.server = { host: a.server.host, port: a.server.port, name: null };
    v.conn.username = a.username;
    v.conn.error = null;
    this.publish();
    const hostKey = `${a.server.host}:${a.server.port}`;
    if (this.opts.confirmFirstUse && !a.fingerprint && !retrying) {
      let pinned: string | undefined;
      try {
        pinned = new KnownHosts(this.opts.knownHostsFile).get(hostKey);
      } catch (err) {
        return this.fail('CONFIG_INVALID', (err as Error).message);
      }
      if (pinned === undefined) {
        let offered: string;
        try {
          offered = await ControlClient.probeFingerprint(a.server.host, a.server.port);
        } catch (err) {
          return this.lost('SERVER_UNREACHABLE', `cannot reach ${hostKey}: ${(err as Error).message}`);
        }
        // Nothing has been sent: the user decides (trust.accept pins it and connects).
        v.conn.certificate = { hostKey, pinned: null, offered, changed: false };
        v.conn.status = 'failed';
        v.conn.error = this.addError('CERT_UNKNOWN', `first connection to ${hostKey}: check that the certificate fingerprint ${offered} is the one the server printed, then accept it`);
        this.publish();
        return;
      }
    }
    let control: ControlClient;
    try {
      control = await ControlClient.connect({
        host: a.server.host,
        port: a.server.port,
        ...(a.fingerprint ? { fingerprint: a.fingerprint } : { knownHostsFile: this.opts.knownHostsFile }),
        pingIntervalMs: 10_000,
      });
    } catch (err) {
      if (err instanceof FingerprintMismatchError) {
        v.conn.certificate = { hostKey: err.hostKey, pinned: err.expected, offered: err.actual, changed: true };
        return this.fail('CERT_CHANGED', err.message);
      }
      return this.lost('SERVER_UNREACHABLE', `cannot reach ${a.server.host}:${a.server.port}: ${(err as Error).message}`);
    }
    let welcome: WelcomeResult;
    try {
      welcome = a.register ? await control.register(a.username, a.password, a.register) : await control.login(a.username, a.password);
    } catch (err) {
      control.close();
      const e = this.errorOf(err);
      if (err instanceof ServerError) return this.fail(e.code, e.message, e.details);
      return this.lost(e.code, e.message);
    }
    this.attach(control, welcome);
    v.conn.status = 'connected';
    // A first connect may have pinned the certificate: the saved servers show it.
    v.servers = serversView(this.opts.store).value;
    v.conn.fingerprint = control.fingerprint;
    v.conn.server = { host: a.server.host, port: a.server.port, name: welcome.server.name };
    v.conn.attempt = 0;
    v.conn.nextRetryAt = null;
    this.backoff.reset();
    this.log.info({ host: a.server.host, port: a.server.port, user: a.username }, `connected to ${a.server.host}:${a.server.port} as ${a.username}`);
    if (a.channel !== undefined) {
      const target = typeof a.channel === 'number' ? a.channel : welcome.channels.find((c) => c.name === a.channel)?.id;
      if (target === undefined) this.addError('NOT_FOUND', `channel "${a.channel}" does not exist (or is not visible to you)`);
      else await control.request('channel.join', { channelId: target }).catch((err) => this.addError(this.errorOf(err).code, this.errorOf(err).message));
    }
    if (this.view.settings.selfMute || this.view.settings.deaf) {
      await control.request('presence.set', { selfMute: this.view.settings.selfMute, selfDeaf: this.view.settings.deaf }).catch(() => undefined);
    }
  }

  private attach(control: ControlClient, welcome: WelcomeResult): void {
    this.control = control;
    this.view.control = control;
    control.on('message', (m: ServerMessage) => this.onServerMessage(m));
    control.on('voice', (body: Buffer) => this.engine.tcpVoice(body));
    control.on('close', () => {
      if (this.control !== control) return;
      this.onClosed(control);
    });
    if (welcome.voice) {
      this.engine.startVoice(
        {
          setup: welcome.voice,
          udpHost: this.opts.udpHost ?? this.lastConnect?.server.host ?? '127.0.0.1',
          ...(this.opts.udpPort !== undefined ? { udpPort: this.opts.udpPort } : {}),
          ...(this.opts.fallbackAfterMs !== undefined ? { fallbackAfterMs: this.opts.fallbackAfterMs } : {}),
        },
        control,
      );
      this.voiceReportTimer = setInterval(() => this.reportVoice(), REPORT_VOICE_MS);
      this.voiceReportTimer.unref();
    }
  }

  private onServerMessage(m: ServerMessage): void {
    const v = this.view;
    if (m.type === 'chat.message') v.chat.push(m.message);
    else if (m.type === 'chat.history') mergeChat(v.chat, m.messages);
    else if (m.type === 'voice.feedback') {
      v.listenerLossPercent = m.lossPercent;
      this.engine.feedback(m.lossPercent);
    }
    if (v.chat.length > MAX_CHAT) v.chat.splice(0, v.chat.length - MAX_CHAT);
    this.publish();
  }

  /** Tells the server what we measure about each speaker (voice-report.ts). */
  private reportVoice(): void {
    if (this.view.engine && this.control) reportVoice(this.view.engine, this.control, this.lastCounts);
  }
  private readonly lastCounts = new Map<number, { received: number; lost: number }>();

  private onClosed(control: ControlClient): void {
    const reason = control.disconnectReason;
    this.detach();
    if (this.closed) return;
    if (reason && FINAL_CODES.has(reason.code)) {
      const details: Record<string, unknown> = {};
      if (reason.reason) details.reason = reason.reason;
      if (reason.expiresAt !== undefined) details.expiresAt = reason.expiresAt;
      return void this.fail(reason.code, reason.message, details);
    }
    if (!this.lastConnect) {
      this.view.conn.status = 'disconnected';
      return this.publish();
    }
    this.lost(reason?.code ?? 'CONNECTION_LOST', reason ? reason.message : 'the connection to the server was lost');
  }

  private detach(): void {
    if (this.voiceReportTimer) clearInterval(this.voiceReportTimer);
    this.voiceReportTimer = null;
    const c = this.control;
    this.control = null;
    this.view.control = null;
    if (c) {
      c.removeAllListeners('message');
      c.removeAllListeners('voice');
      this.engine.stopVoice();
    }
  }

  private dropConnection(status: 'connecting' | 'reconnecting' | 'disconnected'): void {
    const c = this.control;
    this.detach();
    c?.close();
    this.view.conn.status = status;
    if (status === 'disconnected') {
      this.view.conn.attempt = 0;
      this.view.conn.nextRetryAt = null;
    }
  }

  /** A refusal that retrying would only repeat: stop and say why. */
  private fail(code: string, message: string, details?: Record<string, unknown>): void {
    this.cancelRetry();
    this.view.conn.status = 'failed';
    this.view.conn.error = this.addError(code, message, details);
    this.log.warn({ code, ...details }, `connection failed: ${message}`);
    this.publish();
  }

  /** A network failure: retry with backoff while the user still wants to be connected. */
  private lost(code: string, message: string): void {
    const v = this.view;
    v.conn.error = this.addError(code, message);
    if (!this.lastConnect || this.closed) {
      v.conn.status = 'disconnected';
      return this.publish();
    }
    const delay = this.backoff.next();
    v.conn.status = 'reconnecting';
    v.conn.attempt = this.backoff.attempt;
    v.conn.nextRetryAt = Date.now() + delay;
    this.log.warn({ code, attempt: v.conn.attempt, delayMs: delay }, `${message}; reconnecting in ${delay} ms`);
    this.cancelRetry();
    const target = this.lastConnect;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.lastConnect === target && !this.closed) void this.connect(target, true);
    }, delay);
    this.publish();
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  // ---- state ------------------------------------------------------------------

  private pushSettings(): void {
    const v = this.view;
    // Local per-user settings are by user name; the engine knows speakers by voice token.
    const speakers: EngineSettings['speakers'] = {};
    for (const u of this.control?.state.users.values() ?? []) {
      const m = v.userMix[u.username];
      if (m && u.voiceToken !== undefined) speakers[u.voiceToken] = { gain: m.volume, pan: m.pan, muted: m.muted };
    }
    v.settings.speakers = speakers;
    this.engine.settings(v.settings);
  }

  private errorOf(err: unknown): ClientError {
    return errorOf(err);
  }

  private addError(code: string, message: string, details?: Record<string, unknown>): ClientError {
    const e: ClientError = { code, message, at: Date.now(), ...(details ? { details } : {}) };
    this.view.errors.push(e);
    if (this.view.errors.length > MAX_ERRORS) this.view.errors.shift();
    this.publish();
    return e;
  }

  private publishScheduled = false;
  private knownUsersKey = '';

  private publish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    // Many events in one turn of the loop make one snapshot.
    queueMicrotask(() => {
      this.publishScheduled = false;
      // New users (or new voice tokens) need their local mix in the engine.
      const key = [...(this.control?.state.users.values() ?? [])].map((u) => `${u.username}:${u.voiceToken}`).join(',');
      if (key !== this.knownUsersKey) {
        this.knownUsersKey = key;
        this.pushSettings();
      }
      this.state.set(buildSnapshot(this.view));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lastConnect = null;
    this.cancelRetry();
    this.dropConnection('disconnected');
    this.queue.close();
    await this.consumer;
    await this.engine.stop();
  }
}
