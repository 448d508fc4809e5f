// Cheap rejection of UDP garbage before any crypto (docs/PROTOCOL.md 12.2,
// issue 10 attack 5). A garbage flood costs legitimate voice when the server
// spends so long per bad datagram that the socket's receive buffer overflows
// and the kernel drops good packets with the bad. What a bad datagram costs
// here is counted in bench/abuse/udp-flood.
//
// Two budgets, both checked before the AEAD open (a failed open in node:crypto
// costs a Decipheriv and a thrown exception, several µs; a Map lookup is tens of ns):
// - per source IP: a source that sent `badPerWindow` bad datagrams (any
//   reason: size, kind, unknown token, failed authentication) within
//   `windowMs` is shed, i.e. dropped at the first check, for `shedMs`;
// - per session: a token whose datagrams failed authentication `badMacPerWindow`
//   times within `windowMs` has its datagrams from any address other than the
//   session's validated one dropped unopened for `shedMs`. Its real client,
//   talking from its validated address, is still opened, so a flood of bad
//   ciphertext under a real token costs nothing but the lookups.
// Nothing here allocates per datagram; a record is made once per new source
// (at most maxSources of them, cleared by sweep()).

export interface AdmissionSettings {
  windowMs: number;
  /** Bad datagrams from one source IP within windowMs before it is shed. */
  badPerWindow: number;
  /** Failed authentications under one token within windowMs before its budget is spent. */
  badMacPerWindow: number;
  /** How long a shed source (or a spent token budget) stays shed. */
  shedMs: number;
  /** Source records kept at most (a spoofed flood from random IPs must not grow memory). */
  maxSources: number;
}

export const DEFAULT_ADMISSION: AdmissionSettings = {
  windowMs: 1000,
  // A real client sends bad datagrams only after its session ended (its
  // token is unknown from then on) until it notices: up to its voice rate,
  // 50/s, for a moment. Several such clients may share one NAT address. A
  // flood is thousands per second per source, so it is shed within ~0.1 s.
  badPerWindow: 500,
  badMacPerWindow: 20,
  shedMs: 10_000,
  maxSources: 4096,
};

interface SourceRecord {
  windowStart: number;
  bad: number;
  shedUntil: number;
}

/** What one session spends on datagrams that name its token but do not authenticate. */
export interface BadMacBudget {
  badMacWindowStart: number;
  badMacCount: number;
  /** Until then, datagrams with this token from unvalidated addresses are not opened. */
  badMacShedUntil: number;
}

export class SourceShedder {
  /** sourcesShedNow is refreshed by the lane's sweep (once a second). */
  readonly counters = { sourcesShed: 0, sessionBudgetsSpent: 0, sourcesUntracked: 0, sourcesShedNow: 0 };
  private readonly sources = new Map<string, SourceRecord>();

  constructor(readonly settings: AdmissionSettings = { ...DEFAULT_ADMISSION }) {}

  /** True while `address` is shed. A Map lookup; the clock is read only for a known bad source. */
  isShed(address: string): boolean {
    const r = this.sources.get(address);
    return r !== undefined && r.shedUntil !== 0 && r.shedUntil > Date.now();
  }

  /** Counts one bad datagram from `address`; sheds it once over the budget. */
  bad(address: string): void {
    const now = Date.now();
    let r = this.sources.get(address);
    if (r === undefined) {
      if (this.sources.size >= this.settings.maxSources) {
        // Full (a flood from very many addresses): such sources are still
        // rejected cheaply at the token check, just not shed.
        this.counters.sourcesUntracked++;
        return;
      }
      r = { windowStart: now, bad: 0, shedUntil: 0 };
      this.sources.set(address, r);
    }
    if (now - r.windowStart >= this.settings.windowMs) {
      r.windowStart = now;
      r.bad = 0;
    }
    if (++r.bad === this.settings.badPerWindow) {
      r.shedUntil = now + this.settings.shedMs;
      this.counters.sourcesShed++;
    }
  }

  /** Counts a failed authentication under a session's token; true when that spent its budget just now. */
  badMac(s: BadMacBudget): boolean {
    const now = Date.now();
    if (now - s.badMacWindowStart >= this.settings.windowMs) {
      s.badMacWindowStart = now;
      s.badMacCount = 0;
    }
    if (++s.badMacCount !== this.settings.badMacPerWindow) return false;
    s.badMacShedUntil = now + this.settings.shedMs;
    this.counters.sessionBudgetsSpent++;
    return true;
  }

  /** Sources shed right now (for stats and the log). */
  get shedNow(): number {
    const now = Date.now();
    let n = 0;
    for (const r of this.sources.values()) if (r.shedUntil > now) n++;
    return n;
  }

  get tracked(): number {
    return this.sources.size;
  }

  /** Forgets sources that are neither shed nor bad within the current window. */
  sweep(now = Date.now()): void {
    for (const [a, r] of this.sources) {
      if (r.shedUntil <= now && now - r.windowStart >= this.settings.windowMs) this.sources.delete(a);
    }
  }
}

/** True while a session's bad-MAC budget is spent. */
export function budgetSpent(s: BadMacBudget): boolean {
  return s.badMacShedUntil !== 0 && s.badMacShedUntil > Date.now();
}
