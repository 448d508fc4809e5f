// The capture half of one tick, on the audio thread:
//   mic frame → input gain → [AEC slot → NS slot → effects] (one hop to the
//   chain thread, with a deadline) → level → voice gate → Opus → voice lane.
// The echo canceller's reference comes from the playback half through
// EchoReference, aligned to this mic frame.
import { AudioChain } from '../../plugins/chain/audio-chain.js';
import { EchoReference } from './echo-reference.js';
import { FRAME_SAMPLES } from './format.js';
import { frameLevelDb, VoiceGate } from './gate.js';
import { OpusEncoder } from './opus.js';
import type { CaptureDevice } from './devices/device.js';

/** Longest the capture chain may hold a frame before it is passed through unprocessed. */
export const CHAIN_DEADLINE_MS = 8;

export interface CaptureResult {
  levelDb: number;
  peakDb: number;
  gateOpen: boolean;
  sent: boolean;
}

export class CapturePipeline {
  readonly gate = new VoiceGate();
  readonly reference = new EchoReference();
  readonly encoder = new OpusEncoder({ bitrate: 48_000, fec: true, expectedLossPercent: 0 });
  chain: AudioChain | null = null;
  inputGain = 1;
  /** While on, the processed mic goes to the local speaker instead of the network. */
  loopback = false;
  transmitting = false;
  framesEncoded = 0;
  bytesEncoded = 0;
  expectedLossPercent = 0;
  private readonly mic = new Float32Array(FRAME_SAMPLES);
  private readonly ref = new Float32Array(FRAME_SAMPLES);
  readonly processed = new Float32Array(FRAME_SAMPLES);

  constructor(private readonly send: (payload: Uint8Array, timestamp: number) => void) {}

  setExpectedLoss(pct: number): void {
    // A little headroom over the measured loss: Opus spends FEC bits by this figure.
    const v = Math.max(0, Math.min(50, Math.ceil(pct)));
    this.expectedLossPercent = v;
    this.encoder.setExpectedLoss(v);
  }

  tick(index: number, device: CaptureDevice | null, dueMs: number): CaptureResult {
    const mic = this.mic;
    if (!device || device.error || !device.read(mic, dueMs)) mic.fill(0);
    if (this.inputGain !== 1) for (let i = 0; i < FRAME_SAMPLES; i++) mic[i]! *= this.inputGain;
    this.reference.read(this.ref);
    const out = this.processed;
    if (this.chain) {
      const r = this.chain.process(mic, this.ref, out, CHAIN_DEADLINE_MS);
      if (!r.processed) out.set(mic);
    } else out.set(mic);
    const { rmsDb, peakDb } = frameLevelDb(out);
    const open = this.gate.decide(rmsDb);
    let sent = false;
    if (open && !this.loopback) {
      const payload = this.encoder.encode(out);
      this.framesEncoded++;
      this.bytesEncoded += payload.length;
      // The timestamp counts samples since the engine started, so a listener
      // sees silence between talk spurts as a jump in it.
      this.send(payload, index * FRAME_SAMPLES);
      sent = true;
    }
    this.transmitting = sent;
    return { levelDb: rmsDb, peakDb, gateOpen: open, sent };
  }

  close(): void {
    this.encoder.close();
    this.chain?.close();
    this.chain = null;
  }
}
