// Control-lane framing: [length: u32 BE][kind: u8][body], where length counts
// kind + body. Kind 0x01 is a UTF-8 JSON message; kind 0x02 carries one voice
// datagram (the TCP fallback of the voice lane). The cap is checked on the
// header, before any body byte is buffered, so an oversized frame costs nothing.

export const FRAME_HEADER_BYTES = 4;
export const FrameKind = { json: 0x01, voice: 0x02 } as const;
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

export interface Frame {
  kind: number;
  body: Buffer;
}

export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly max: number) {
    super(`frame of ${length} bytes exceeds the ${max}-byte limit`);
  }
}

export class EmptyFrameError extends Error {
  constructor() {
    super('frame length 0 is not allowed');
  }
}

export function encodeFrame(kind: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + body.length);
  out.writeUInt32BE(body.length + 1, 0);
  out[4] = kind;
  body.copy(out, 5);
  return out;
}

export function encodeJsonFrame(message: unknown): Buffer {
  return encodeFrame(FrameKind.json, Buffer.from(JSON.stringify(message), 'utf8'));
}

/**
 * Incremental decoder: push() socket chunks, get whole frames back. Throws
 * FrameTooLargeError / EmptyFrameError; after a throw the stream cannot be
 * resynchronised and the connection must be closed.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Time the current incomplete frame started arriving, or null when idle. */
  partialSince: number | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer, now = Date.now()): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length === 0) throw new EmptyFrameError();
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.take(FRAME_HEADER_BYTES + length);
      frames.push({ kind: whole[4]!, body: whole.subarray(5) });
    }
    this.partialSince = this.buffered > 0 ? (this.partialSince ?? now) : null;
    if (frames.length > 0 && this.buffered > 0) this.partialSince = now;
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    const rest = first.subarray(n);
    this.chunks[0] = rest;
    if (rest.length === 0) this.chunks.shift();
    this.buffered -= n;
    return out;
  }
}
