// Host API v1 as seen by a guest. This code runs inside the plugin's sandbox
// thread, next to the guest, and never blocks on the owner: everything a host
// function needs is local to the thread (the latest state snapshot pushed by
// the owner, the plugin's own key/value data, its config), and everything it
// asks the host to *do* (send chat, kick, persist a key, log) is recorded as
// an Effect and handed to the owner with the call's result.
//
// Calling convention (every function in module "extism:host/user"): one
// argument, the Extism offset of a UTF-8 JSON request; returns the offset of
// a UTF-8 JSON reply. Failures are replies too: {"error": CODE, "message": ...}.
// A function whose capability was not granted replies
//   {"error":"CAPABILITY_DENIED","function":"hearth_kv_set","capability":"storage","message":...}
// and the host logs a warning.
import type { CallContext } from '@extism/extism';
import { HOST_FUNCTIONS, HOST_MODULE, KERNEL_MODULE, type Capability, type HostFunctionName } from './capabilities.js';
import type { Effect, LogLevel } from './protocol.js';

/** Per-call caps on what one call may ask of the host. */
export const CALL_LIMITS = {
  /** chat.send + moderation effects per call. */
  actions: 16,
  /** Log lines per call, counted separately for the guest's own lines and the host's notes about it (more are dropped and counted). */
  logLines: 32,
  /** Characters of one log line / chat message. */
  textChars: 4000,
  keyChars: 256,
  valueBytes: 64 * 1024,
} as const;

type HostFn = (cp: CallContext, ...args: bigint[]) => bigint | number | void;

export interface GuestApiInit {
  pluginId: string;
  grants: ReadonlySet<string>;
  config: Record<string, unknown>;
  kv: [string, string][];
  state: unknown;
  storageBytes: number;
  /** Bytes the guest may allocate host-side (Extism alloc) during one call. */
  hostAllocBytes: number;
}

const encoder = new TextEncoder();

function byteLength(s: string): number {
  return encoder.encode(s).length;
}

export class GuestHostApi {
  state: unknown;
  readonly kv: Map<string, string>;
  private kvBytes = 0;
  private effects: Effect[] = [];
  private actions = 0;
  private logLines = 0;
  private hostLines = 0;
  private droppedLogs = 0;
  private allocated = 0;
  /** Key/value writes of the current call, coalesced by key (null: deleted). */
  private kvChanges = new Map<string, string | null>();
  private abortReason: string | null = null;
  private readonly init: GuestApiInit;

  constructor(init: GuestApiInit) {
    this.init = init;
    this.state = init.state;
    this.kv = new Map(init.kv);
    for (const [k, v] of this.kv) this.kvBytes += byteLength(k) + byteLength(v);
  }

  beginCall(): void {
    this.actions = 0;
    this.logLines = 0;
    this.hostLines = 0;
    this.droppedLogs = 0;
    this.kvChanges.clear();
    this.allocated = 0;
    this.abortReason = null;
  }

  /** The effects recorded since the last call, plus a note about dropped log lines. */
  takeEffects(): Effect[] {
    for (const [key, value] of this.kvChanges) {
      this.effects.push(value === null ? { kind: 'kv.delete', key } : { kind: 'kv.set', key, value });
    }
    this.kvChanges.clear();
    if (this.droppedLogs) {
      this.effects.push({ kind: 'log', level: 'warn', source: 'host', msg: `dropped ${this.droppedLogs} log lines over the per-call limit of ${CALL_LIMITS.logLines}` });
    }
    const out = this.effects;
    this.effects = [];
    return out;
  }

  /** Why the guest aborted (recorded by hearth_abort just before it trapped). */
  get abortMessage(): string | null {
    return this.abortReason;
  }

  /** A log line from the host side of the sandbox (Extism's own messages, denials). */
  hostLog(level: LogLevel, msg: string, data?: Record<string, unknown>): void {
    if (this.hostLines >= CALL_LIMITS.logLines) {
      this.droppedLogs++;
      return;
    }
    this.hostLines++;
    this.effects.push({ kind: 'log', level, source: 'host', msg, ...(data ? { data } : {}) });
  }

  private granted(cap: Capability | null): boolean {
    return cap === null || this.init.grants.has(cap);
  }

  private deny(fn: string, cap: Capability): Record<string, unknown> {
    this.hostLog('warn', `called ${fn} without the "${cap}" capability (denied)`, { function: fn, capability: cap });
    return {
      error: 'CAPABILITY_DENIED',
      function: fn,
      capability: cap,
      message: `${fn} needs the "${cap}" capability, which this plugin was not granted`,
    };
  }

  private reply(cp: CallContext, value: unknown): bigint {
    return cp.store(JSON.stringify(value));
  }

  private request(cp: CallContext, offset: bigint): Record<string, unknown> | null {
    const block = cp.read(offset);
    if (!block) return null;
    try {
      const v: unknown = JSON.parse(block.text());
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  private action(effect: Effect): Record<string, unknown> {
    if (this.actions >= CALL_LIMITS.actions) {
      return { error: 'RATE_LIMITED', message: `at most ${CALL_LIMITS.actions} chat/moderation actions per call` };
    }
    this.actions++;
    this.effects.push(effect);
    return { ok: true };
  }

  private log(level: LogLevel, msg: string, source: 'guest' | 'host' = 'guest'): void {
    if (this.logLines >= CALL_LIMITS.logLines) {
      this.droppedLogs++;
      return;
    }
    this.logLines++;
    this.effects.push({ kind: 'log', level, source, msg: msg.slice(0, CALL_LIMITS.textChars) });
  }

  private handlers: Record<HostFunctionName, (req: Record<string, unknown>) => unknown> = {
    hearth_state_read: () => this.state ?? { channels: [], users: [] },
    hearth_chat_send: (req) => {
      const text = req.text;
      if (typeof text !== 'string' || text.length === 0 || text.length > CALL_LIMITS.textChars) {
        return { error: 'BAD_REQUEST', message: `text must be a string of 1-${CALL_LIMITS.textChars} characters` };
      }
      const channelId = req.channelId;
      if (channelId !== undefined && !(Number.isInteger(channelId) && (channelId as number) >= 0)) {
        return { error: 'BAD_REQUEST', message: 'channelId must be a non-negative integer' };
      }
      return this.action({ kind: 'chat.send', text, ...(channelId !== undefined ? { channelId: channelId as number } : {}) });
    },
    hearth_kv_get: (req) => {
      const key = req.key;
      if (typeof key !== 'string') return { error: 'BAD_REQUEST', message: 'key must be a string' };
      return { ok: true, value: this.kv.get(key) ?? null };
    },
    hearth_kv_set: (req) => {
      const { key, value } = req;
      if (typeof key !== 'string' || key.length === 0 || key.length > CALL_LIMITS.keyChars) {
        return { error: 'BAD_REQUEST', message: `key must be a string of 1-${CALL_LIMITS.keyChars} characters` };
      }
      if (typeof value !== 'string') return { error: 'BAD_REQUEST', message: 'value must be a string (store JSON as text)' };
      const size = byteLength(value);
      if (size > CALL_LIMITS.valueBytes) return { error: 'BAD_REQUEST', message: `value is larger than ${CALL_LIMITS.valueBytes} bytes` };
      const old = this.kv.get(key);
      const delta = byteLength(key) + size - (old === undefined ? 0 : byteLength(key) + byteLength(old));
      if (this.kvBytes + delta > this.init.storageBytes) {
        return { error: 'QUOTA_EXCEEDED', message: `storage quota of ${this.init.storageBytes} bytes would be exceeded` };
      }
      this.kvBytes += delta;
      this.kv.set(key, value);
      this.kvChanges.set(key, value);
      return { ok: true };
    },
    hearth_kv_delete: (req) => {
      const key = req.key;
      if (typeof key !== 'string') return { error: 'BAD_REQUEST', message: 'key must be a string' };
      const old = this.kv.get(key);
      if (old === undefined) return { ok: true, existed: false };
      this.kv.delete(key);
      this.kvBytes -= byteLength(key) + byteLength(old);
      this.kvChanges.set(key, null);
      return { ok: true, existed: true };
    },
    hearth_moderate: (req) => {
      const { action, userId } = req;
      if (action !== 'kick' && action !== 'mute' && action !== 'unmute') {
        return { error: 'BAD_REQUEST', message: 'action must be "kick", "mute" or "unmute"' };
      }
      if (!Number.isInteger(userId) || (userId as number) < 0) return { error: 'BAD_REQUEST', message: 'userId must be a non-negative integer' };
      const reason = typeof req.reason === 'string' ? req.reason.slice(0, 500) : '';
      const r = this.action({ kind: 'moderation', action, userId: userId as number, reason });
      return r.ok ? { ok: true, queued: true } : r;
    },
    hearth_log: (req) => {
      const level = req.level;
      const msg = req.msg;
      if (typeof msg !== 'string') return { error: 'BAD_REQUEST', message: 'msg must be a string' };
      const lvl: LogLevel = level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
      this.log(lvl, msg);
      return { ok: true };
    },
    hearth_config_get: () => ({ ok: true, config: this.init.config }),
    hearth_abort: (req) => {
      const where = typeof req.file === 'string' && req.file ? ` (at ${req.file}:${String(req.line)}:${String(req.column)})` : '';
      this.abortReason = `${typeof req.message === 'string' ? req.message.slice(0, 500) : 'abort'}${where}`;
      return { ok: true };
    },
  };

  private kernelLog(level: LogLevel): HostFn {
    return (cp, offset) => {
      if (!this.granted('log')) {
        this.deny(`log_${level}`, 'log');
        return;
      }
      const block = offset === undefined ? null : cp.read(offset);
      if (block) this.log(level, block.text());
    };
  }

  /** The `functions` option for Extism's createPlugin. */
  functions(): Record<string, Record<string, HostFn>> {
    const user: Record<string, HostFn> = {};
    for (const [name, cap] of Object.entries(HOST_FUNCTIONS) as [HostFunctionName, Capability | null][]) {
      const handler = this.handlers[name];
      user[name] = (cp, offset) => {
        if (!this.granted(cap)) return this.reply(cp, this.deny(name, cap!));
        const req = offset === undefined ? null : this.request(cp, offset);
        if (req === null) return this.reply(cp, { error: 'BAD_REQUEST', message: 'the request must be a JSON object' });
        return this.reply(cp, handler(req));
      };
    }
    const denyNetwork: HostFn = (cp, offset) => {
      const block = offset === undefined ? null : cp.read(offset);
      let url = '?';
      try {
        url = String((JSON.parse(block?.text() ?? '{}') as { url?: unknown }).url ?? '?').slice(0, 200);
      } catch {
        // not JSON: report the attempt without the URL
      }
      this.hostLog('warn', 'tried an HTTP request (denied: plugins have no network access)', { url });
      return cp.store(JSON.stringify({ error: 'NETWORK_DENIED', message: 'Hearth plugins have no network access' }));
    };
    const kernel: Record<string, HostFn> = {
      // Extism's own allocator, with a per-call cap on what the guest can make the host hold.
      alloc: (cp, n) => {
        const size = Number(n ?? 0n);
        this.allocated += size;
        if (this.allocated > this.init.hostAllocBytes) {
          throw new Error(`host memory limit: the guest allocated ${this.allocated} bytes of Extism memory in one call (limit ${this.init.hostAllocBytes})`);
        }
        return cp.alloc(size);
      },
      http_request: denyNetwork,
      http_status_code: () => 0,
      http_headers: () => 0n,
      log_trace: this.kernelLog('debug'),
      log_debug: this.kernelLog('debug'),
      log_info: this.kernelLog('info'),
      log_warn: this.kernelLog('warn'),
      log_error: this.kernelLog('error'),
    };
    return { [HOST_MODULE]: user, [KERNEL_MODULE]: kernel };
  }
}
