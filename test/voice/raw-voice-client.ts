// A minimal voice client for server-side tests that need the exact bytes on
// the wire (VoiceTransport hands out opened packets only): logs in over TLS,
// keeps every datagram the server sends it, answers path challenges as a
// client must (docs/PROTOCOL.md 12.6), and sends voice and keep-alives.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { deriveVoiceKeys, VoiceCipher, type VoiceKeys } from '../../host/voice/packet.js';
import { PATH_CONTROL_BYTE, sealPathResponse } from '../../host/voice/path-packets.js';
import { connect, createUser, eventually, PASSWORD, type TestServer } from '../helpers/server.js';

const EMPTY = Buffer.alloc(0);

/** Answers IP literals at once (so a send from a busy loop goes out synchronously). */
function literalLookup(address: string, _family: number, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, isIP(address) || 4);
}

export class RawVoiceClient {
  /** Datagrams relayed to us (another speaker's token), exactly as received. */
  readonly relayed: Buffer[] = [];
  keepaliveAnswers = 0;
  sequence = 0;
  readonly send: VoiceCipher;
  readonly recv: VoiceCipher;

  private constructor(
    readonly control: ControlClient,
    readonly socket: dgram.Socket,
    readonly token: number,
    readonly keys: VoiceKeys,
    readonly serverPort: number,
  ) {
    this.send = new VoiceCipher(keys.clientToServer);
    this.recv = new VoiceCipher(keys.serverToClient);
    socket.on('message', (m) => this.onMessage(m));
  }

  static async connect(t: TestServer, name: string): Promise<RawVoiceClient> {
    if (!t.server.store.users.findByName(name)) await createUser(t, name);
    const control = await connect(t);
    const welcome = await control.login(name, PASSWORD);
    if (!welcome.voice) throw new Error('no voice credentials');
    const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const c = new RawVoiceClient(control, socket, welcome.voice.token, deriveVoiceKeys(Buffer.from(welcome.voice.secret, 'base64')), welcome.voice.udpPort);
    return c;
  }

  /** Sends keep-alives until one is answered over UDP (the path is validated). */
  async establish(): Promise<void> {
    const before = this.keepaliveAnswers;
    const timer = setInterval(() => this.keepalive(), 100);
    this.keepalive();
    try {
      await eventually(() => this.keepaliveAnswers > before, 3000, 'keep-alive answered over UDP');
    } finally {
      clearInterval(timer);
    }
  }

  keepalive(): void {
    this.socket.send(this.send.seal(this.token, this.sequence++, Date.now(), EMPTY), this.serverPort, '127.0.0.1');
  }

  /** Sends one voice packet; returns the plaintext sent. */
  voice(payload: Buffer): Buffer {
    this.socket.send(this.send.seal(this.token, this.sequence++, this.sequence * 960, payload), this.serverPort, '127.0.0.1');
    return payload;
  }

  private onMessage(m: Buffer): void {
    const token = m.readUInt32BE(0);
    if (token !== this.token) {
      this.relayed.push(Buffer.from(m));
      return;
    }
    const opened = this.recv.open(m);
    if (opened === null) return;
    if (m[4] === PATH_CONTROL_BYTE) {
      this.socket.send(sealPathResponse(this.send, this.token, this.sequence++, opened.timestamp), this.serverPort, '127.0.0.1');
      return;
    }
    this.keepaliveAnswers++;
  }

  close(): void {
    this.socket.close();
    this.control.close();
  }
}
