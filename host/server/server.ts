// HearthServer: wires data directory, logger, database, TLS identity and the
// control lane together. `start()` returns once the TLS port is listening.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createLogger, type HostLogger, type Logger } from '../log/logger.js';
import type { ServerConfig } from '../config/server-config.js';
import { Store } from '../db/store.js';
import { hashToken } from '../db/invites.js';
import { loadOrCreateIdentity, type TlsIdentity } from '../tls/certificate.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { dispatch } from './handlers/index.js';
import { Hub } from './hub.js';
import { LoginThrottle } from './login-throttle.js';
import { normalizeIp } from './ip.js';
import { VoiceLane } from './voice/voice-lane.js';
import { PluginManager } from './plugins/plugin-manager.js';

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
  private server: tls.Server | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  private nextConnId = 1;

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
    mkdirSync(cfg.dataDir, { recursive: true });
    if (!this.log) {
      this.hostLogger = await createLogger({ dir: join(cfg.dataDir, 'logs'), ...cfg.log });
      this.log = this.hostLogger.logger;
    }
    this.store = Store.open(cfg.dataDir, this.log);
    this.identity = await loadOrCreateIdentity({ dataDir: cfg.dataDir, certFile: cfg.tls.certFile, keyFile: cfg.tls.keyFile, commonName: cfg.serverName });
    if (this.identity.generated) this.log.info({ fingerprint: this.identity.fingerprint }, 'generated self-signed TLS certificate');
    this.hub = new Hub(this.store, this.log.child({ component: 'hub' }));

    const bootstrapToken = this.prepareBootstrap();
    this.ctx = {
      config: cfg,
      store: this.store,
      hub: this.hub,
      log: this.log,
      throttle: new LoginThrottle(cfg.loginThrottle),
      version: HEARTH_VERSION,
      bootstrapTokenHash: bootstrapToken ? hashToken(bootstrapToken) : null,
      voice: null,
      plugins: null,
    };

    const server = tls.createServer({
      key: this.identity.key,
      cert: this.identity.cert,
      minVersion: 'TLSv1.3',
      handshakeTimeout: cfg.limits.handshakeTimeoutMs,
    });
    // Counts connections still in their TLS handshake too, which accept() cannot see.
    server.maxConnections = cfg.limits.maxConnections + 50;
    server.on('secureConnection', (socket) => this.accept(socket));
    server.on('tlsClientError', (err, socket) => {
      this.log.info({ ip: normalizeIp(socket.remoteAddress), err: err.message }, 'TLS handshake failed');
      // Node only reports a handshake timeout; without this the silent peer's socket stays open.
      socket.destroy();
    });
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
        historyKeepPerChannel: cfg.limits.historyKeepPerChannel,
      });
      await this.plugins.start();
      this.ctx.plugins = this.plugins;
    }
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    const addr = this.address;
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

  private accept(socket: tls.TLSSocket): void {
    const ip = normalizeIp(socket.remoteAddress);
    const connId = this.nextConnId++;
    const log = this.log.child({ conn: connId, ip });
    const conn = new Connection(socket, ip, connId, this.config, log, (c, m) => dispatch(this.ctx, c, m));
    socket.setNoDelay(true);
    const count = (this.perIp.get(ip) ?? 0) + 1;
    this.perIp.set(ip, count);
    this.connections.add(conn);
    conn.onClose(() => {
      this.connections.delete(conn);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
      log.info('connection closed');
    });
    log.info('connection accepted');
    if (this.connections.size > this.config.limits.maxConnections || count > this.config.limits.maxConnectionsPerIp) {
      conn.disconnect('SERVER_FULL', count > this.config.limits.maxConnectionsPerIp ? 'too many connections from your address' : 'server is full');
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
    this.ctx.throttle.sweep(now);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const c of [...this.connections]) c.disconnect('SHUTDOWN');
    if (this.server) {
      const srv = this.server;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        setTimeout(resolve, 1000).unref();
      });
      for (const c of this.connections) c.socket.destroy();
    }
    this.voice?.stop();
    await this.plugins?.stop();
    this.store?.close();
    this.log?.info('server stopped');
    await this.hostLogger?.close();
  }
}
