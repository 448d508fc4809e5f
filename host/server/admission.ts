// Connection admission, from the moment TCP is accepted (before any TLS byte).
//
// A connection is a ticket in one of three states: `handshake` (TLS not up
// yet), `login` (TLS up, nobody logged in) and `session` (logged in). The first
// two are "unauthenticated" and share a server-wide budget of their own, so a
// flood of them can never take a logged-in session's slot, and logged-in
// sessions are capped separately. The per-IP cap counts every state, so an
// address cannot park more sockets in the handshake than it could log in.
//
// When the unauthenticated budget is full, the new connection is admitted and
// the oldest unauthenticated connection of the address that holds the most of
// them is shed. Refusing the newcomer instead is what let 2,100 silent sockets
// lock everyone out until their timeouts ran; shedding from the biggest holder
// means a flood mostly sheds itself, and a legitimate client, newest and from an
// address holding one connection, is the last to go.
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

export type TicketState = 'handshake' | 'login' | 'session';

export interface AdmissionLimits {
  /** Logged-in sessions in total. */
  maxSessions: number;
  /** Handshaking + handshaked-but-not-logged-in connections in total. */
  maxUnauthenticated: number;
  /** Connections per IP, in every state. */
  maxPerIp: number;
}

export interface Ticket {
  readonly ip: string;
  readonly socket: Socket;
  readonly acceptedAt: number;
  state: TicketState;
  /**
   * Over its address's cap, but let through the handshake only to be told
   * SERVER_FULL (a client that opened one too many sees why). At most
   * COURTESY_PER_IP of these per address at a time, then plain refusal.
   */
  readonly courtesy: boolean;
  /** Shed by the budget (the socket is being closed by us). */
  shed: boolean;
  /** Set once TLS is up: how to tell the peer it was shed. */
  onShed: (() => void) | null;
  released: boolean;
}

interface PerIp {
  /** Tickets of this IP in any state, courtesy ones excluded. */
  total: number;
  courtesy: number;
  /** Its unauthenticated tickets, oldest first (Set keeps insertion order). */
  readonly unauth: Set<Ticket>;
}

const COURTESY_PER_IP = 2;
const SUMMARY_INTERVAL_MS = 10_000;

export class Admission {
  private readonly perIp = new Map<string, PerIp>();
  /** Every unauthenticated ticket, oldest first. */
  private readonly unauth = new Set<Ticket>();
  private sessions = 0;
  readonly stats = { accepted: 0, refusedPerIp: 0, shed: 0 };
  private lastSummary = 0;
  private sinceSummary = { refusedPerIp: 0, shed: 0 };

  constructor(private readonly limits: AdmissionLimits, private readonly log: Logger) {}

  /**
   * Called for every accepted TCP socket. Returns its ticket, or null when the
   * socket was refused (already destroyed). Never refuses for the global
   * budget: it sheds instead.
   */
  admit(socket: Socket, ip: string, now = Date.now()): Ticket | null {
    let entry = this.perIp.get(ip);
    let courtesy = false;
    if (entry && entry.total >= this.limits.maxPerIp) {
      if (entry.courtesy >= COURTESY_PER_IP) {
        this.stats.refusedPerIp++;
        this.sinceSummary.refusedPerIp++;
        this.summarise(now);
        socket.destroy();
        return null;
      }
      courtesy = true;
    }
    if (this.unauth.size >= this.limits.maxUnauthenticated) this.shedOne(now);
    if (!entry) {
      entry = { total: 0, courtesy: 0, unauth: new Set() };
      this.perIp.set(ip, entry);
    }
    const ticket: Ticket = { ip, socket, acceptedAt: now, state: 'handshake', courtesy, shed: false, onShed: null, released: false };
    if (courtesy) entry.courtesy++;
    else entry.total++;
    entry.unauth.add(ticket);
    this.unauth.add(ticket);
    this.stats.accepted++;
    return ticket;
  }

  /** TLS is up; `onShed` tells the peer why if the budget sheds it later. */
  handshaked(ticket: Ticket, onShed: () => void): void {
    if (ticket.state === 'handshake') ticket.state = 'login';
    ticket.onShed = onShed;
  }

  get sessionsFull(): boolean {
    return this.sessions >= this.limits.maxSessions;
  }

  /** A login succeeded. False (and nothing changes) when the sessions are full. */
  promote(ticket: Ticket): boolean {
    if (ticket.state === 'session') return true;
    if (ticket.released || ticket.shed || this.sessionsFull) return false;
    this.dropUnauth(ticket);
    ticket.state = 'session';
    this.sessions++;
    return true;
  }

  /** The socket closed (for whatever reason). Idempotent. */
  release(ticket: Ticket): void {
    if (ticket.released) return;
    ticket.released = true;
    if (ticket.state === 'session') this.sessions--;
    else this.dropUnauth(ticket);
    const entry = this.perIp.get(ticket.ip);
    if (!entry) return;
    if (ticket.courtesy) entry.courtesy--;
    else entry.total--;
    if (entry.total <= 0 && entry.courtesy <= 0 && entry.unauth.size === 0) this.perIp.delete(ticket.ip);
  }

  get counts(): { sessions: number; unauthenticated: number; addresses: number } {
    return { sessions: this.sessions, unauthenticated: this.unauth.size, addresses: this.perIp.size };
  }

  private dropUnauth(ticket: Ticket): void {
    this.unauth.delete(ticket);
    this.perIp.get(ticket.ip)?.unauth.delete(ticket);
  }

  private shedOne(now: number): void {
    // The biggest holder; on a tie the one whose oldest ticket is oldest. Linear
    // in the number of addresses holding unauthenticated tickets, which the
    // budget bounds.
    let victim: Ticket | undefined;
    let most = 0;
    for (const entry of this.perIp.values()) {
      const n = entry.unauth.size;
      if (n === 0 || n < most) continue;
      const oldest = entry.unauth.values().next().value as Ticket;
      if (n > most || (victim !== undefined && oldest.acceptedAt < victim.acceptedAt)) {
        most = n;
        victim = oldest;
      }
    }
    victim ??= this.unauth.values().next().value as Ticket | undefined;
    if (!victim) return;
    this.dropUnauth(victim);
    victim.shed = true;
    this.stats.shed++;
    this.sinceSummary.shed++;
    this.summarise(now);
    // Its per-IP count is given back when the socket has actually closed (release).
    if (victim.onShed) victim.onShed();
    else victim.socket.destroy();
  }

  // One line per interval, not one per socket: a flood must not flood the log.
  private summarise(now: number): void {
    if (now - this.lastSummary < SUMMARY_INTERVAL_MS) return;
    this.lastSummary = now;
    this.log.warn({ ...this.sinceSummary, ...this.counts }, 'connections refused (address over its cap) or shed (unauthenticated budget full)');
    this.sinceSummary = { refusedPerIp: 0, shed: 0 };
  }
}
