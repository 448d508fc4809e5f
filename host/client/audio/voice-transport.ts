// Client side of the voice lane. Sends voice and keep-alives over UDP; when no
// keep-alive answer has come back over UDP (blocked network, or UDP went
// silent), sends the same datagrams through the TLS connection instead, and
// returns to UDP as soon as an answer arrives there again. Answers the
// server's path challenges (docs/PROTOCOL.md 12.6), so the server sends voice
// to a new source port (NAT rebinding) once it has proved we are there.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { deriveVoiceKeys, VoiceCipher, MAX_PAYLOAD_BYTES } from '../../voice/packet.js';
import { ReplayWindow } from '../../voice/replay-window.js';
import { isPathControl, PATH_PACKET_BYTES, sealPathResponse } from '../../voice/path-packets.js';
import type { VoiceSetup } from '../../protocol/server-messages.js';

/**
 * What the voice lane needs of the TLS control lane for the fallback: send a
 * kind-2 frame, and hear kind-2 frames. ControlClient is one (main thread);
 * the audio thread passes one that hops through the main thread.
 */
export interface VoiceTcpLane {
  sendVoiceFrame(datagram: Buffer): void;
  on(event: 'voice', listener: (body: Buffer) => void): unknown;
  off(event: 'voice', listener: (body: Buffer) => void): unknown;
}

export interface VoiceTransportOptions {
  /** Where to send UDP (defaults: the control host, setup.udpPort). Tests point this at a relay. */
  udpHost: string;
  udpPort?: number;
  /** Fall back to TLS if no UDP answer arrives within this long after start. */
  fallbackAfterMs?: number;
  /** Fall back to TLS if UDP answers stop for this long. */
  silentAfterMs?: number;
  /** Keep-alive period while on TLS (probing for UDP to come back). */
  probeMs?: number;
}

export interface ReceivedVoice {
  token: number;
  sequence: bigint;
  timestamp: bigint;
  payload: Buffer;
  via: 'udp' | 'tcp';
}

interface SpeakerStats {
  replay: ReplayWindow;
  first: bigint;
  highest: bigint;
  received: number;
}

export class VoiceTransport extends EventEmitter {
  mode: 'udp' | 'tcp' = 'udp';
  rttMs: number | null = null;
  readonly counters = { sent: 0, sentTcp: 0, received: 0, keepalivesSent: 0, keepaliveAnswers: 0, rejected: 0, modeChanges: 0, pathChallenges: 0 };
  private socket: dgram.Socket | null = null;
  private readonly send: VoiceCipher;
  private readonly recv: VoiceCipher;
  private sequence = 0;
  private timestamp = 0;
  private lastUdpAnswer = 0;
  private readonly startedAt = Date.now();
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private readonly speakers = new Map<number, SpeakerStats>();
  private readonly serverReplay = new ReplayWindow();
  /** Challenges have their own sequence space (0x81 in the top byte): a window of their own. */
  private readonly challengeReplay = new ReplayWindow();
  private readonly onTcpVoice = (body: Buffer) => this.onDatagram(body, 'tcp');
  closed = false;

  constructor(
    private readonly control: VoiceTcpLane,
    readonly setup: VoiceSetup,
    private readonly opts: VoiceTransportOptions,
  ) {
    super();
    const keys = deriveVoiceKeys(Buffer.from(setup.secret, 'base64'));
    this.send = new VoiceCipher(keys.clientToServer);
    this.recv = new VoiceCipher(keys.serverToClient);
  }

  get token(): number {
    return this.setup.token;
  }

  async start(): Promise<this> {
    await this.openSocket();
    this.control.on('voice', this.onTcpVoice);
    this.keepalive();
    this.scheduleKeepalive();
    this.checkTimer = setInterval(() => this.checkMode(), 250);
    this.checkTimer.unref();
    return this;
  }

  private async openSocket(): Promise<void> {
    const s = dgram.createSocket(this.opts.udpHost.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (m) => this.onDatagram(m, 'udp'));
    s.on('error', (err) => this.emit('socketError', err));
    await new Promise<void>((resolve) => s.bind(0, resolve));
    this.socket = s;
  }

  /** Drops the UDP socket and opens a new one (new source port), as a NAT rebinding would. */
  async rebind(): Promise<void> {
    this.socket?.close();
    await this.openSocket();
    this.keepalive();
  }

  get localPort(): number {
    return this.socket?.address().port ?? 0;
  }

  private scheduleKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    const every = this.mode === 'udp' ? this.setup.keepaliveMs : (this.opts.probeMs ?? 1000);
    this.keepaliveTimer = setInterval(() => this.keepalive(), every);
    this.keepaliveTimer.unref();
  }

  /** Authenticated empty packet; its timestamp (µs) comes back in the answer for RTT. */
  keepalive(): void {
    const now = BigInt(Math.round(performance.now() * 1000));
    const dg = this.send.seal(this.setup.token, this.sequence++, now, Buffer.alloc(0));
    this.counters.keepalivesSent++;
    this.sendUdp(dg);
  }

  /** Sends one Opus payload; the timestamp advances 960 samples (20 ms at 48 kHz) unless given. */
  sendVoice(payload: Uint8Array, timestamp?: number | bigint): void {
    if (this.closed) return;
    if (payload.length === 0 || payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`voice payload must be 1..${MAX_PAYLOAD_BYTES} bytes`);
    const ts = timestamp ?? (this.timestamp += 960);
    const dg = this.send.seal(this.setup.token, this.sequence++, ts, payload);
    this.counters.sent++;
    if (this.mode === 'udp') this.sendUdp(dg);
    else {
      this.counters.sentTcp++;
      this.control.sendVoiceFrame(dg);
    }
  }

  private sendUdp(dg: Buffer): void {
    this.socket?.send(dg, this.opts.udpPort ?? this.setup.udpPort, this.opts.udpHost);
  }

  private onDatagram(dg: Buffer, via: 'udp' | 'tcp'): void {
    const pkt = this.recv.open(dg);
    if (!pkt) {
      this.counters.rejected++;
      return;
    }
    if (pkt.token === this.setup.token && isPathControl(dg)) {
      // PATH_CHALLENGE: answer it from this socket, so from the address it reached.
      // Only over UDP, empty, and once each (a replayed one makes us send nothing).
      if (via !== 'udp' || dg.length !== PATH_PACKET_BYTES || !this.challengeReplay.accept(pkt.sequence)) return;
      this.counters.pathChallenges++;
      this.sendUdp(sealPathResponse(this.send, this.setup.token, this.sequence++, pkt.timestamp));
      // A challenge proves that the server reaches us over UDP.
      this.lastUdpAnswer = Date.now();
      if (this.mode === 'tcp') this.setMode('udp');
      return;
    }
    if (pkt.token === this.setup.token) {
      // Keep-alive answer.
      if (!this.serverReplay.accept(pkt.sequence)) return;
      this.counters.keepaliveAnswers++;
      this.rttMs = performance.now() - Number(pkt.timestamp) / 1000;
      if (via === 'udp') {
        this.lastUdpAnswer = Date.now();
        if (this.mode === 'tcp') this.setMode('udp');
      }
      this.emit('rtt', this.rttMs);
      return;
    }
    let sp = this.speakers.get(pkt.token);
    if (!sp) {
      sp = { replay: new ReplayWindow(), first: pkt.sequence, highest: pkt.sequence, received: 0 };
      this.speakers.set(pkt.token, sp);
    }
    // The same packet can arrive over both paths around a mode switch.
    if (!sp.replay.accept(pkt.sequence)) {
      this.emit('duplicate', pkt.token);
      return;
    }
    sp.received++;
    if (pkt.sequence > sp.highest) sp.highest = pkt.sequence;
    if (pkt.sequence < sp.first) sp.first = pkt.sequence;
    this.counters.received++;
    const v: ReceivedVoice = { token: pkt.token, sequence: pkt.sequence, timestamp: pkt.timestamp, payload: pkt.payload, via };
    this.emit('voice', v);
  }

  private checkMode(): void {
    if (this.mode !== 'udp') return;
    const now = Date.now();
    const limit = this.lastUdpAnswer === 0 ? (this.opts.fallbackAfterMs ?? 3000) : (this.opts.silentAfterMs ?? 12_000);
    const since = now - (this.lastUdpAnswer || this.startedAt);
    if (since > limit) this.setMode('tcp');
  }

  private setMode(mode: 'udp' | 'tcp'): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.counters.modeChanges++;
    this.scheduleKeepalive();
    this.emit('mode', mode);
  }

  /** Packets missing from each speaker's sequence range so far (sum over speakers). */
  get lost(): number {
    let lost = 0;
    for (const sp of this.speakers.values()) lost += Number(sp.highest - sp.first + 1n) - sp.received;
    return lost;
  }

  stats(): { mode: 'udp' | 'tcp'; rttMs: number | null; lost: number; lossPercent: number } & VoiceTransport['counters'] {
    const expected = this.counters.received + this.lost;
    return { mode: this.mode, rttMs: this.rttMs, lost: this.lost, lossPercent: expected === 0 ? 0 : (100 * this.lost) / expected, ...this.counters };
  }

  close(): void {
    this.closed = true;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.control.off('voice', this.onTcpVoice);
    this.socket?.close();
    this.socket = null;
  }
}
