// HearthServer: wires data directory, logger, database, TLS identity and the
// control lane together. `start()` returns once the TLS port is listening.
// `stop()` drains (SIGTERM), `reload()` applies a re-read config and
// certificate (SIGHUP); the monitoring endpoint and the run file live in
// host/ops/.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createLogger, type HostLogger, type Logger } from '../log/logger.js';
import type { ServerConfig } from '../config/server-config.js';
import { Store } from '../db/store.js';
import { hashToken } from '../db/invites.js';
import { loadOrCreateIdentity, type TlsIdentity } from '../tls/certificate.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { dispatch } from './handlers/index.js';
import { Hub } from './hub.js';
import { Admission, type Ticket } from './admission.js';
import { normalizeIp } from './ip.js';
import { VoiceLane } from './voice/voice-lane.js';
import { MemoryHousekeeping } from './memory.js';
import { PluginManager } from './plugins/plugin-manager.js';
import { CountingLoginGuard, OpsCounters } from '../ops/counters.js';
import { startMonitoring, type Monitoring } from '../ops/monitoring.js';
import { formatListenAddress } from '../ops/listen-address.js';
import { removeRunFile, writeRunFile } from '../ops/run-file.js';
import { applyReload, type ReloadOutcome } from '../ops/reload.js';

export const HEARTH_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export { normalizeIp } from './ip.js';

export interface StartedInfo {
  port: number;
  host: string;
  fingerprint: string;
  certGenerated: boolean;
  voicePort: number;
  /** One-time token that makes its registrant the first admin; null once an admin exists. */
  bootstrapToken: string | null;
}

export class HearthServer {
  readonly config: ServerConfig;
  log!: Logger;
  store!: Store;
  hub!: Hub;
  voice!: VoiceLane;
  plugins: PluginManager | null = null;
  identity!: TlsIdentity;
  private hostLogger: HostLogger | null = null;
  private ctx!: ServerContext;
  /** Accepts TCP; admission decides before a single TLS byte is processed. */
  private server: net.Server | null = null;
  /** Never listens: it runs the TLS handshake of the sockets `server` admitted. */
  private tlsServer: tls.Server | null = null;
  private admission!: Admission;
  /** Admitted sockets still in their handshake, by "address:port" (unique while connected). */
  private readonly handshaking = new Map<string, Ticket>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** glibc malloc tuning and trimming after bursts of connections (memory.ts). */
  readonly memory = new MemoryHousekeeping();
  private readonly connections = new Set<Connection>();
  private nextConnId = 1;
  /** Monitoring counters no other module keeps (host/ops/counters.ts). */
  readonly counters = new OpsCounters();
  /** Set by stop(): /readyz says not ready from then on. */
  draining = false;
  private monitoring: Monitoring | null = null;
  private stopping: Promise<void> | null = null;

  /** `config` comes from loadServerConfig() (defaults, file and flags already merged and validated). */
  constructor(config: ServerConfig, opts: { logger?: Logger } = {}) {
    this.config = config;
    if (opts.logger) this.log = opts.logger;
  }

  get address(): AddressInfo {
    return this.server!.address() as AddressInfo;
  }

  async start(): Promise<StartedInfo> {
    const cfg = this.config;
    this.memory.tune();
    mkdirSync(cfg.dataDir, { recursive: true });
    if (!this.log) {
      this.hostLogger = await createLogger({ dir: join(cfg.dataDir, 'logs'), ...cfg.log });
      this.log = this.hostLogger.logger;
    }
    this.store = Store.open(cfg.dataDir, this.log);
    this.identity = await loadOrCreateIdentity({ dataDir: cfg.dataDir, certFile: cfg.tls.certFile, keyFile: cfg.tls.keyFile, commonName: cfg.serverName });
    if (this.identity.generated) this.log.info({ fingerprint: this.identity.fingerprint }, 'generated self-signed TLS certificate');
    this.hub = new Hub(this.store, this.log.child({ component: 'hub' }));
    this.hub.presenceListeners.push((_s, event) => {
      if (event === 'join') this.counters.sessionsStarted++;
    });

    const bootstrapToken = this.prepareBootstrap();
    this.ctx = {
      config: cfg,
      store: this.store,
      hub: this.hub,
      log: this.log,
      guard: new CountingLoginGuard(cfg, this.counters),
      version: HEARTH_VERSION,
      bootstrapTokenHash: bootstrapToken ? hashToken(bootstrapToken) : null,
      voice: null,
      plugins: null,
    };

    this.admission = new Admission(
      { maxSessions: cfg.limits.maxConnections, maxUnauthenticated: cfg.limits.maxUnauthenticated, maxPerIp: cfg.limits.maxConnectionsPerIp },
      this.log.child({ component: 'admission' }),
    );
    const tlsServer = tls.createServer({
      key: this.identity.key,
      cert: this.identity.cert,
      minVersion: 'TLSv1.3',
      handshakeTimeout: cfg.limits.handshakeTimeoutMs,
    });
    tlsServer.on('secureConnection', (socket) => this.accept(socket));
    tlsServer.on('tlsClientError', (err, socket) => {
      const ticket = this.handshaking.get(peerKey(socket));
      // A socket we shed (or that is gone already) fails its handshake as a matter of course: not news.
      const quiet = !ticket || ticket.shed;
      this.log[quiet ? 'debug' : 'info']({ ip: normalizeIp(socket.remoteAddress), err: err.message }, 'TLS handshake failed');
      // Node only reports a handshake timeout; without this the silent peer's socket stays open.
      socket.destroy();
    });
    this.tlsServer = tlsServer;
    // Plain TCP in front of TLS: the per-IP cap and the unauthenticated budget
    // apply from accept, so a peer that never sends a ClientHello is counted too
    // (tls.Server alone shows a connection only once its handshake is done).
    const server = net.createServer({ noDelay: true }, (raw) => this.admit(raw));
    server.on('error', (err) => this.log.error({ err }, 'server socket error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cfg.port, cfg.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.voice = new VoiceLane(cfg, this.hub, this.log.child({ component: 'voice' }));
    const voicePort = await this.voice.start(this.address.port);
    this.ctx.voice = this.voice;
    if (cfg.plugins.enabled) {
      this.plugins = new PluginManager({
        dataDir: cfg.dataDir,
        store: this.store,
        hub: this.hub,
        log: this.log.child({ component: 'plugins' }),
        pollMs: cfg.plugins.pollMs,
        timerMs: cfg.plugins.timerMs,
        chatBurst: cfg.plugins.chatBurst,
        chatPerSecond: cfg.plugins.chatPerSecond,
        failClosed: cfg.plugins.failClosed,
        historyKeepPerChannel: cfg.limits.historyKeepPerChannel,
      });
      await this.plugins.start();
      this.ctx.plugins = this.plugins;
    }
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    if (cfg.metrics.listen !== undefined) this.monitoring = await startMonitoring(this, cfg.metrics.listen, HEARTH_VERSION, this.log.child({ component: 'metrics' }));
    const addr = this.address;
    writeRunFile(cfg.dataDir, {
      pid: process.pid,
      version: HEARTH_VERSION,
      startedAt: new Date().toISOString(),
      control: formatListenAddress({ host: cfg.host, port: addr.port }),
      voice: formatListenAddress({ host: cfg.host, port: voicePort }),
      metrics: this.monitoring ? formatListenAddress(this.monitoring.address) : null,
    });
    this.log.info({ host: cfg.host, port: addr.port, voicePort, dataDir: cfg.dataDir, fingerprint: this.identity.fingerprint, registration: cfg.registration }, 'server listening');
    return { port: addr.port, host: cfg.host, fingerprint: this.identity.fingerprint, certGenerated: this.identity.generated, voicePort, bootstrapToken };
  }

  /** While no admin exists, a fresh one-time token lets the operator claim the first admin account. */
  private prepareBootstrap(): string | null {
    if (this.store.users.countWithRole('admin') > 0) {
      this.store.settings.delete('bootstrap_token_hash');
      return null;
    }
    const token = randomBytes(24).toString('base64url');
    this.store.settings.set('bootstrap_token_hash', hashToken(token));
    this.log.info('no admin account yet: a one-time bootstrap token was issued (see terminal)');
    return token;
  }

  /** Every accepted TCP socket, before TLS. */
  private admit(raw: net.Socket): void {
    const ip = normalizeIp(raw.remoteAddress);
    const ticket = this.admission.admit(raw, ip);
    if (!ticket) return;
    const key = peerKey(raw);
    this.handshaking.set(key, ticket);
    raw.on('error', () => {});
    raw.once('close', () => {
      if (this.handshaking.get(key) === ticket) this.handshaking.delete(key);
      this.admission.release(ticket);
    });
    this.tlsServer!.emit('connection', raw);
  }

  private accept(socket: tls.TLSSocket): void {
    const key = peerKey(socket);
    const ticket = this.handshaking.get(key);
    this.handshaking.delete(key);
    if (!ticket || ticket.shed || ticket.released) {
      socket.destroy();
      return;
    }
    const ip = ticket.ip;
    const connId = this.nextConnId++;
    this.memory.noteChange(Date.now());
    const log = this.log.child({ conn: connId, ip });
    const conn = new Connection(socket, ip, connId, this.config, log, (c, m) => dispatch(this.ctx, c, m));
    this.connections.add(conn);
    conn.claimSessionSlot = () => this.admission.promote(ticket);
    // Shed later for the budget: the peer is told why, and the socket does not linger.
    this.admission.handshaked(ticket, () => {
      conn.disconnect('SERVER_FULL', 'too many connections are waiting to log in; try again');
      setTimeout(() => socket.destroy(), 200).unref();
    });
    conn.onClose((code) => {
      this.connections.delete(conn);
      this.memory.noteChange(Date.now());
      this.counters.connectionClosed(code);
      log.info('connection closed');
    });
    log.info('connection accepted');
    if (ticket.courtesy) {
      conn.disconnect('SERVER_FULL', 'too many connections from your address');
      return;
    }
    if (this.admission.sessionsFull) {
      conn.disconnect('SERVER_FULL', 'server is full');
      return;
    }
    const ban = this.store.bans.activeForIp(ip);
    if (ban) {
      const until = ban.expiresAt === null ? 'permanently' : `until ${new Date(ban.expiresAt).toISOString()}`;
      log.warn({ banId: ban.id }, 'banned address refused');
      conn.disconnect('BANNED', `your address is banned ${until}: ${ban.reason || 'no reason given'}`, { reason: ban.reason, expiresAt: ban.expiresAt });
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) c.checkTimers(now);
    this.ctx.guard.sweep(now);
    this.memory.tick(now);
  }

  /** Connections whose TLS handshake is done (logged in or not). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** What admission holds now: logged-in sessions, unauthenticated sockets (handshaking ones too), addresses. */
  get admissionCounts(): { sessions: number; unauthenticated: number; addresses: number } {
    return this.admission.counts;
  }

  /** Where the monitoring endpoint listens (null: off). */
  get metricsAddress(): { host: string; port: number } | null {
    return this.monitoring?.address ?? null;
  }

  /** Bound addresses for the readiness check (null: not listening). */
  get listeners(): { control: string | null; voice: string | null } {
    const control = this.server?.listening ? this.address : null;
    const voicePort = this.voice?.port ?? 0;
    return {
      control: control ? formatListenAddress({ host: this.config.host, port: control.port }) : null,
      voice: voicePort > 0 ? formatListenAddress({ host: this.config.host, port: voicePort }) : null,
    };
  }

  /**
   * SIGHUP: applies a freshly loaded config (and the certificate it points
   * at) without dropping anyone. Throws OpsError RELOAD_FAILED, changing
   * nothing, when the certificate is unusable.
   */
  reload(next: ServerConfig): ReloadOutcome {
    const outcome = applyReload(this.config, next, this.tlsServer!, this.identity.fingerprint);
    this.identity = { ...outcome.identity, generated: false };
    this.log.info(
      { applied: outcome.applied, needsRestart: outcome.needsRestart, fingerprint: outcome.fingerprint, certificateChanged: outcome.certificateChanged, connections: this.connections.size },
      'configuration reloaded',
    );
    if (outcome.needsRestart.length > 0) this.log.warn({ keys: outcome.needsRestart }, 'changed settings that take effect only after a restart');
    return outcome;
  }

  /**
   * Drains and stops: no new connections, every client told SHUTDOWN, the
   * plugins and the database closed (SQLite folds the WAL back into hearth.db
   * on the last close), the log flushed. A second call waits for the first.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // Stop accepting first, so nobody connects in the middle of the drain.
    const closed = this.server ? new Promise<void>((resolve) => this.server!.close(() => resolve())) : Promise.resolve();
    for (const t of this.handshaking.values()) t.socket.destroy();
    const sessions = this.connections.size;
    for (const c of [...this.connections]) c.disconnect('SHUTDOWN');
    // Clients close their side on `disconnect`; one that does not is cut after a second.
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const c of this.connections) c.socket.destroy();
    // Resolves once the voice shards' threads (voice.shards > 1) have exited.
    await this.voice?.stop();
    await this.plugins?.stop();
    await this.monitoring?.close();
    this.monitoring = null;
    this.store?.close();
    removeRunFile(this.config.dataDir);
    this.log?.info({ disconnected: sessions }, 'server stopped');
    await this.hostLogger?.close();
  }
}

/** "address:port" of a socket's peer; the raw socket and its TLS wrapper agree on it. */
function peerKey(socket: net.Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
