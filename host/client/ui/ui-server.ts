// Serves the desktop UI to a browser on this machine, and carries actions
// down and snapshots up over one WebSocket per page (protocol.ts).
//
//   http://127.0.0.1:PORT/SECRET/        the page (dist/ui/index.html, app.js, app.css)
//   ws://127.0.0.1:PORT/SECRET/ws        the socket
//
// Who may drive the client: only a page that knows the per-run secret (32
// random bytes, base64url, in the URL's first path segment) and, for the
// socket, whose Origin is exactly this server's own. Without the secret a
// request gets 403 and no page; a wrong Host (DNS rebinding) gets 403 too. Other
// local users cannot guess the secret; other pages in the browser cannot read
// it (Referrer-Policy: no-referrer, no cross-origin reads) and cannot open the
// socket (Origin). Everything the page needs ships in dist/ui; the CSP allows
// nothing else (no CDN).
//
// Watch semantics upstream: the server never queues snapshots. Each page has a
// credit of ACK_WINDOW un-acked snapshots; a snapshot is sent only when the
// credit allows it AND the socket has drained (the previous send's callback
// fired, bufferedAmount is 0), and what is sent is the newest snapshot at that
// moment. A page that stops reading gets at most ACK_WINDOW snapshots in
// flight; when it reads again it gets the newest one, never a backlog.
//
// Patches (patch.ts): a page that opens the socket with ?patch=1 gets one full
// snapshot, then for each snapshot sent only how it differs from the one sent
// before (the page applies them in order). The core keeps, per page, a private
// copy of the state the page holds (rebuilt from the JSON it sent, so nothing
// the core mutates later can make the two drift); a patch bigger than half a
// full snapshot is sent as a full one, and so is the next one after the page
// asks for a resync. Credit, draining and "newest only" are the same for both.
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket } from 'ws';
import type { ClientAction } from '../core/actions.js';
import type { Latest } from '../core/latest.js';
import type { ClientSnapshot } from '../core/snapshot.js';
import { compactSnapshot } from './compact.js';
import { applyPatch, diff, type Patch } from './patch.js';
import type { LayoutHost, LayoutState } from './layout-host.js';
import { parsePageMessage } from './page-messages.js';
import { ACK_WINDOW, UI_PROTOCOL } from './protocol.js';

/** dist/host/client/ui → dist/ui (where scripts/build-ui.mjs writes the page). */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const MAX_PEERS = 8;
const MAX_MESSAGE = 256 * 1024;
/** A page that never acks gets at most one snapshot per LEGACY_MS once its window is full. */
const LEGACY_MS = 1000;

export interface UiCore {
  state: Latest<ClientSnapshot>;
  push(a: ClientAction): void;
}

export interface UiServerOptions {
  logger: Logger;
  core: UiCore;
  layout?: LayoutHost | null;
  /** Default: dist/ui. */
  staticDir?: string;
  /** Default 0: a random free port. */
  port?: number;
  /** Default: 32 random bytes, base64url. */
  secret?: string;
}

interface Peer {
  ws: WebSocket;
  sent: number;
  acked: number;
  writing: boolean;
  snapshotDirty: boolean;
  layoutDirty: boolean;
  layoutSeq: number;
  retry: NodeJS.Timeout | null;
  framesSent: number;
  lastSnapshotAt: number;
  /** The page asked for patches (?patch=1). */
  patches: boolean;
  /** With patches: the state the page holds after the last message sent (null: send a full one). */
  copy: unknown;
}

export interface UiServerStats {
  peers: number;
  snapshotsSent: number;
  /** Actions the pages sent (valid ones, pushed to the core). */
  actions: number;
  refused: number;
  lastSnapshotBytes: number;
  /** Of the snapshot messages sent: full ones and patches, and the last patch's size. */
  fullSent: number;
  patchesSent: number;
  lastPatchBytes: number;
  patchBytes: number;
  /** Publications that changed nothing a patching page gets (nothing sent). */
  unchanged: number;
}

export class UiServer {
  readonly secret: string;
  private readonly log: Logger;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly peers = new Set<Peer>();
  private readonly staticDir: string;
  private portNo = 0;
  private unsubscribe: (() => void) | null = null;
  private cache: { version: number; json: string; compact: ClientSnapshot | null } = { version: -1, json: '', compact: null };
  private readonly layoutListener = (): void => this.markAll('layout');
  readonly stats: UiServerStats = { peers: 0, snapshotsSent: 0, actions: 0, refused: 0, lastSnapshotBytes: 0, fullSent: 0, patchesSent: 0, lastPatchBytes: 0, patchBytes: 0, unchanged: 0 };

  private constructor(private readonly opts: UiServerOptions) {
    this.log = opts.logger.child({ component: 'ui' });
    this.secret = opts.secret ?? randomBytes(32).toString('base64url');
    this.staticDir = resolve(opts.staticDir ?? DEFAULT_STATIC_DIR);
    this.http = createServer((req, res) => void this.serve(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(opts: UiServerOptions): Promise<UiServer> {
    const s = new UiServer(opts);
    await new Promise<void>((ok, fail) => {
      s.http.once('error', fail);
      s.http.listen(opts.port ?? 0, '127.0.0.1', () => {
        s.http.off('error', fail);
        ok();
      });
    });
    const addr = s.http.address();
    s.portNo = typeof addr === 'object' && addr ? addr.port : 0;
    s.unsubscribe = opts.core.state.subscribe((v) => {
      opts.layout?.update(v);
      s.markAll('snapshot');
    });
    opts.layout?.on('layout', s.layoutListener);
    opts.layout?.update(opts.core.state.get());
    s.log.info({ port: s.portNo, staticDir: s.staticDir }, `UI server listening on 127.0.0.1:${s.portNo}`);
    return s;
  }

  get port(): number {
    return this.portNo;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.portNo}`;
  }

  /** The page's address, secret included: what the launcher opens and the CLI prints. */
  get url(): string {
    return `${this.origin}/${this.secret}/`;
  }

  private secretMatches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.secret);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private headers(type: string): Record<string, string> {
    return {
      'Content-Type': type,
      'Content-Security-Policy': [
        "default-src 'none'",
        "script-src 'self'",
        // Inline style attributes (e.g. a meter's width) are harmless; scripts stay 'self' only.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        `connect-src 'self' ws://127.0.0.1:${this.portNo}`,
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
  }

  private refuse(res: ServerResponse, code: number, text: string): void {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(text + '\n');
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.headers.host !== `127.0.0.1:${this.portNo}`) return this.refuse(res, 403, 'Forbidden');
      const path = (req.url ?? '/').split('?')[0]!;
      const segs = path.split('/');
      // segs[0] is '' (the path starts with '/'); segs[1] must be the secret.
      if (segs.length < 2 || !this.secretMatches(segs[1] ?? '')) {
        this.log.warn({ path: path.slice(0, 20) }, 'UI request without the secret refused');
        return this.refuse(res, 403, 'Forbidden');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.refuse(res, 405, 'Method Not Allowed');
      if (segs.length === 2) {
        res.writeHead(308, { Location: `/${this.secret}/`, 'Cache-Control': 'no-store' });
        return void res.end();
      }
      let rel: string;
      try {
        rel = decodeURIComponent(segs.slice(2).join('/')) || 'index.html';
      } catch {
        return this.refuse(res, 400, 'Bad Request');
      }
      const file = normalize(join(this.staticDir, rel));
      if (rel.includes('\0') || !file.startsWith(this.staticDir + sep)) return this.refuse(res, 404, 'Not Found');
      const type = TYPES[extname(file).toLowerCase()];
      if (!type) return this.refuse(res, 404, 'Not Found');
      let body: Buffer;
      try {
        if (!(await stat(file)).isFile()) return this.refuse(res, 404, 'Not Found');
        body = await readFile(file);
      } catch {
        return this.refuse(res, 404, 'Not Found');
      }
      res.writeHead(200, { ...this.headers(type), 'Content-Length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'UI request failed');
      if (!res.headersSent) this.refuse(res, 500, 'Internal Server Error');
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const deny = (why: string): void => {
      this.log.warn({ why }, `UI socket refused: ${why}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    };
    const segs = (req.url ?? '').split('?')[0]!.split('/');
    if (req.headers.host !== `127.0.0.1:${this.portNo}`) return deny('wrong Host');
    if (segs.length !== 3 || !this.secretMatches(segs[1] ?? '') || segs[2] !== 'ws') return deny('no secret');
    if (req.headers.origin !== this.origin) return deny(`wrong Origin ${String(req.headers.origin).slice(0, 100)}`);
    if (this.peers.size >= MAX_PEERS) return deny('too many pages');
    const patches = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('patch') === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, patches));
  }

  private attach(ws: WebSocket, patches: boolean): void {
    const peer: Peer = { ws, sent: 0, acked: 0, writing: false, snapshotDirty: true, layoutDirty: true, layoutSeq: 0, retry: null, framesSent: 0, lastSnapshotAt: 0, patches, copy: null };
    this.peers.add(peer);
    this.stats.peers = this.peers.size;
    this.log.info({ peers: this.peers.size }, 'UI page connected');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.refusePage(peer, 'binary frames are not part of the protocol');
      const m = parsePageMessage(data.toString());
      switch (m.kind) {
        case 'ack':
          if (m.seq > peer.acked && m.seq <= peer.sent) peer.acked = m.seq;
          this.flush(peer);
          break;
        case 'resync':
          // The page dropped what it could not apply: those are not in flight any more.
          peer.copy = null;
          peer.acked = peer.sent;
          peer.snapshotDirty = true;
          this.flush(peer);
          break;
        case 'viewport':
          this.opts.layout?.update(this.opts.core.state.get(), { width: m.width, height: m.height });
          break;
        case 'action':
          this.stats.actions++;
          this.log.debug({ action: m.action.type }, `UI action ${m.action.type}`);
          this.opts.core.push(m.action);
          break;
        case 'invalid':
          this.refusePage(peer, m.reason);
          break;
      }
    });
    ws.on('close', () => {
      if (peer.retry) clearTimeout(peer.retry);
      this.peers.delete(peer);
      this.stats.peers = this.peers.size;
      this.log.info({ peers: this.peers.size }, 'UI page disconnected');
    });
    ws.on('error', (err) => this.log.warn({ err: err.message }, 'UI socket error'));
    this.write(peer, JSON.stringify({ type: 'hello', protocol: UI_PROTOCOL, ackWindow: ACK_WINDOW }));
  }

  private refusePage(peer: Peer, reason: string): void {
    this.stats.refused++;
    this.log.warn({ reason }, `UI message refused: ${reason}`);
    if (peer.ws.readyState === WebSocket.OPEN) peer.ws.send(JSON.stringify({ type: 'refused', reason: reason.slice(0, 500) }));
  }

  private markAll(what: 'snapshot' | 'layout'): void {
    for (const p of this.peers) {
      if (what === 'snapshot') p.snapshotDirty = true;
      else p.layoutDirty = true;
      this.flush(p);
    }
  }

  private write(peer: Peer, data: string): void {
    peer.writing = true;
    peer.framesSent++;
    peer.ws.send(data, () => {
      peer.writing = false;
      this.flush(peer);
    });
  }

  /** Sends what is due, newest only, if the socket has drained and the credit allows. */
  private flush(peer: Peer): void {
    const ws = peer.ws;
    if (peer.writing || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > 0) {
      if (!peer.retry) {
        peer.retry = setTimeout(() => {
          peer.retry = null;
          this.flush(peer);
        }, 5);
      }
      return;
    }
    const layout = this.opts.layout;
    if (peer.layoutDirty && layout) {
      peer.layoutDirty = false;
      this.write(peer, this.layoutMessage(layout.state, layout, ++peer.layoutSeq));
      return;
    }
    peer.layoutDirty = false;
    if (!peer.snapshotDirty) return;
    // A page that has never acked (an old page, or one that does not implement
    // acks) still gets a snapshot a second once its window is full; one that acks
    // is held to the window exactly.
    const credit = peer.sent - peer.acked < ACK_WINDOW || (peer.acked === 0 && performance.now() - peer.lastSnapshotAt > LEGACY_MS);
    if (!credit) {
      if (peer.acked === 0 && !peer.retry) {
        peer.retry = setTimeout(() => {
          peer.retry = null;
          this.flush(peer);
        }, LEGACY_MS);
      }
      return;
    }
    peer.snapshotDirty = false;
    let msg: string | null;
    if (!peer.patches) msg = this.fullMessage(peer);
    else if (peer.copy === null) msg = this.fullMessage(peer);
    else msg = this.patchMessage(peer);
    if (msg === null) return;
    peer.lastSnapshotAt = performance.now();
    this.stats.snapshotsSent++;
    this.write(peer, msg);
  }

  private fullMessage(peer: Peer): string {
    const state = this.stateJson();
    if (peer.patches) peer.copy = JSON.parse(state) as unknown;
    peer.sent++;
    this.stats.fullSent++;
    return `{"type":"snapshot","seq":${peer.sent},"state":${state}}`;
  }

  /** The newest snapshot as a patch on what the page holds; null when it holds it already. */
  private patchMessage(peer: Peer): string | null {
    const next = this.compact();
    const d = diff(peer.copy, next);
    if (d === undefined) {
      this.stats.unchanged++;
      return null;
    }
    const pj = JSON.stringify(d);
    // A patch that is most of a snapshot (a new server, a reconnect) goes as one.
    if (this.stats.lastSnapshotBytes && pj.length > this.stats.lastSnapshotBytes / 2) return this.fullMessage(peer);
    peer.copy = applyPatch(peer.copy, JSON.parse(pj) as Patch);
    const base = peer.sent;
    peer.sent++;
    this.stats.patchesSent++;
    this.stats.lastPatchBytes = pj.length;
    this.stats.patchBytes += pj.length;
    return `{"type":"patch","seq":${peer.sent},"base":${base},"patch":${pj}}`;
  }

  private layoutMessage(s: LayoutState, layout: LayoutHost, seq: number): string {
    return JSON.stringify({ type: 'layout', seq, tree: s.tree, plugin: s.plugin, notice: s.notice, choices: layout.list() });
  }

  /** The newest snapshot, compacted (made once per version, shared by every page). */
  private compact(): ClientSnapshot {
    const v = this.opts.core.state.version;
    if (this.cache.version !== v || !this.cache.compact) this.cache = { version: v, json: '', compact: compactSnapshot(this.opts.core.state.get()) };
    return this.cache.compact!;
  }

  /** The newest snapshot, compacted, as JSON (made once per version, shared by every page). */
  private stateJson(): string {
    const c = this.compact();
    if (!this.cache.json) {
      this.cache.json = JSON.stringify(c);
      this.stats.lastSnapshotBytes = Buffer.byteLength(this.cache.json);
    }
    return this.cache.json;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.opts.layout?.off('layout', this.layoutListener);
    for (const p of this.peers) {
      if (p.retry) clearTimeout(p.retry);
      p.ws.terminate();
    }
    this.peers.clear();
    this.wss.close();
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    this.http.closeAllConnections();
    await closed;
  }
}
