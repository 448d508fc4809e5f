// The playback half of one tick, on the audio thread: every speaker's jitter
// buffer yields one frame (decoded, FEC-recovered or concealed), the mixer
// applies per-speaker gain and pan and the limiter, and the stereo frame goes
// to the output device and to the echo canceller's reference.
import { FRAME_SAMPLES, PLAYBACK_CHANNELS } from './format.js';
import { frameLevelDb } from './gate.js';
import { Mixer } from './mixer.js';
import { SpeakerPlayout } from './speaker.js';
import type { PlaybackDevice } from './devices/device.js';
import type { EchoReference } from './echo-reference.js';
import type { SpeakerMix } from './engine-protocol.js';

/** A speaker unheard for this long has its decoder freed (a new packet recreates it). */
const FORGET_AFTER_MS = 60_000;

interface Source {
  pcm: Float32Array;
  gain: number;
  pan: number;
}

export class PlaybackPipeline {
  readonly speakers = new Map<number, { playout: SpeakerPlayout; lastHeardMs: number; source: Source }>();
  private readonly mixer = new Mixer();
  readonly frame = new Float32Array(FRAME_SAMPLES * PLAYBACK_CHANNELS);
  private readonly sources: Source[] = [];
  private readonly loopbackSource: Source = { pcm: new Float32Array(FRAME_SAMPLES), gain: 1, pan: 0 };
  mix: Record<number, SpeakerMix> = {};
  deaf = false;
  volume = 1;
  levelDb = -120;

  /** A voice packet of speaker `token`; `frameIndex` is its timestamp / 960. */
  push(token: number, frameIndex: number, payload: Uint8Array, arrivalMs: number): void {
    let sp = this.speakers.get(token);
    if (!sp) {
      sp = { playout: new SpeakerPlayout(), lastHeardMs: arrivalMs, source: { pcm: new Float32Array(FRAME_SAMPLES), gain: 1, pan: 0 } };
      this.speakers.set(token, sp);
    }
    sp.lastHeardMs = arrivalMs;
    sp.playout.push(frameIndex, payload, arrivalMs);
  }

  /** `loopback`: the processed mic frame to play locally (device test), or null. */
  tick(nowMs: number, device: PlaybackDevice | null, reference: EchoReference, loopback: Float32Array | null, dueMs: number): void {
    const sources = this.sources;
    sources.length = 0;
    for (const [token, sp] of this.speakers) {
      // Every jitter buffer advances every tick, deaf or not, so playout
      // timing survives undeafening.
      const playing = sp.playout.pull(nowMs, sp.source.pcm);
      if (!playing) {
        if (nowMs - sp.lastHeardMs > FORGET_AFTER_MS) {
          sp.playout.close();
          this.speakers.delete(token);
        }
        continue;
      }
      const m = this.mix[token];
      if (this.deaf || (m && m.muted)) continue;
      sp.source.gain = (m ? m.gain : 1) * this.volume;
      sp.source.pan = m ? m.pan : 0;
      sources.push(sp.source);
    }
    if (loopback) {
      this.loopbackSource.pcm.set(loopback);
      this.loopbackSource.gain = this.volume;
      sources.push(this.loopbackSource);
    }
    this.mixer.mix(sources, this.frame);
    this.levelDb = frameLevelDb(this.frame).rmsDb;
    reference.pushPlayed(this.frame);
    if (device && !device.error) device.write(this.frame, dueMs);
  }

  close(): void {
    for (const sp of this.speakers.values()) sp.playout.close();
    this.speakers.clear();
  }
}
