// Messages between the client core (main thread) and the audio engine (its
// worker thread). The engine owns the devices, the capture chain, Opus, the
// jitter buffers, the mixer and the UDP voice socket; the main thread only
// relays the TLS fallback and settings, and reads the engine's reports.
import type { VoiceSetup } from '../../protocol/server-messages.js';
import type { PluginManifest } from '../../plugins/manifest.js';
import type { GateSettings } from './gate.js';
import type { JitterStats } from './jitter-buffer.js';

import type { CaptureSpec as DeviceCaptureSpec, PlaybackSpec } from './devices/index.js';
import type { RoomSpec } from './devices/loopback-room.js';

/** A device, or `room`: a microphone that hears this client's own speaker through a synthetic echo path (tests, benchmarks). */
export type CaptureSpec = DeviceCaptureSpec | ({ kind: 'room' } & RoomSpec);
export type { PlaybackSpec };

export interface ChainGuestSpec {
  manifest: PluginManifest;
  wasm: Uint8Array;
  grants: string[];
  config: Record<string, unknown>;
  slot: 'aec' | 'ns' | 'effect';
  enabled: boolean;
}

export interface SpeakerMix {
  /** Linear gain (1 = unchanged). */
  gain: number;
  /** -1 left .. +1 right. */
  pan: number;
  muted: boolean;
}

export interface EngineSettings {
  gate: GateSettings;
  selfMute: boolean;
  deaf: boolean;
  /** Linear output gain. */
  outputVolume: number;
  /** Capture gain in dB, applied before the chain. */
  inputGainDb: number;
  /** Per speaker, by voice token. Speakers not listed play at gain 1, centre. */
  speakers: Record<number, SpeakerMix>;
  /** Hear your own processed mic (device test); nothing is sent while on. */
  loopback: boolean;
}

export type ToEngine =
  | { type: 'settings'; settings: EngineSettings }
  | { type: 'ptt'; down: boolean }
  | { type: 'devices'; capture: CaptureSpec; playback: PlaybackSpec; extraEchoDelaySamples?: number }
  | { type: 'devices.reopen' }
  /** Lists the sound cards (PortAudio); answered with devices.listed. */
  | { type: 'devices.list' }
  | { type: 'chain'; guests: ChainGuestSpec[] }
  /** Turns one guest of the running chain on or off, live (no restart). */
  | { type: 'chain.enable'; pluginId: string; on: boolean }
  | { type: 'voice.start'; setup: VoiceSetup; udpHost: string; udpPort?: number; fallbackAfterMs?: number; silentAfterMs?: number }
  | { type: 'voice.stop' }
  | { type: 'tcp.voice'; body: Uint8Array }
  | { type: 'feedback'; lossPercent: number }
  | { type: 'virtual.inject'; samples: Float32Array }
  | { type: 'virtual.fail'; which: 'capture' | 'playback'; reason: string }
  | { type: 'virtual.dump'; requestId: number }
  /** Moves the frame clock so its ticks fall on epochMs + k * 20 ms (two engines then tick together). */
  | { type: 'clock.align'; epochMs: number }
  | { type: 'stop' };

export interface DeviceStatus {
  kind: string;
  name: string;
  open: boolean;
  error: { code: string; message: string } | null;
  underruns: number;
  overruns: number;
  ended?: boolean;
}

/** One remote speaker as the audio thread reports it: its jitter buffer's figures and its level. */
export interface SpeakerReport
  extends Pick<JitterStats, 'received' | 'late' | 'duplicate' | 'lost' | 'concealed' | 'fecRecovered' | 'inserted' | 'dropped' | 'depthMs' | 'targetMs' | 'jitterMs' | 'playoutDelayMs'> {
  token: number;
  speaking: boolean;
  levelDb: number;
  /** Highest target depth this speaker's jitter buffer has had (ms). */
  maxDepthMs: number;
}

export interface GuestReport {
  pluginId: string;
  slot: string;
  state: string;
  calls: number;
  overruns: number;
  bypassed: number;
  faults: number;
  lastUs: number;
  /** What the guest publishes (an echo canceller's ERLE, a suppressor's noise floor), named by its manifest's audio.stats. */
  published?: Record<string, number>;
  message?: string;
}

export interface EngineReport {
  at: number;
  clock: { ticks: number; lateFrames: number; catchUpFrames: number; skippedFrames: number; maxLateMs: number; frameLateTicks: number; underruns: number };
  input: { levelDb: number; peakDb: number; gateOpen: boolean; transmitting: boolean; device: DeviceStatus | null };
  output: { levelDb: number; device: DeviceStatus | null };
  speakers: SpeakerReport[];
  transport: { mode: 'udp' | 'tcp'; rttMs: number | null; sent: number; received: number; keepalivesSent: number; keepaliveAnswers: number; rejected: number } | null;
  encoder: { expectedLossPercent: number; framesEncoded: number; bytesEncoded: number };
  chain: { frames: number; bypassedFrames: number; restarts: number; guests: GuestReport[] } | null;
  /** CPU per tick of the capture and the playback half, µs (last second). */
  cpu: { captureUsP50: number; captureUsP99: number; playbackUsP50: number; playbackUsP99: number };
  echoDelaySamples: number;
}

export type FromEngine =
  | { type: 'ready' }
  | { type: 'report'; report: EngineReport }
  | { type: 'tcp.send'; body: Uint8Array }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown> }
  | {
      type: 'virtual.dumped';
      requestId: number;
      /** The virtual output's recording (stereo interleaved) and the tick time (epoch ms) of each recorded frame. */
      recorded: Float32Array;
      playbackFrameTimes: number[];
      /** Where each virtual.inject landed in the capture stream, and when that sample was captured (epoch ms). */
      injections: { sampleIndex: number; capturedAtMs: number }[];
      /** Codec look-ahead of the encoder (samples). */
      lookaheadSamples: number;
      /** Jitter buffer figures per speaker at the time of the dump. */
      playoutDelayMs: Record<number, number>;
    }
  | { type: 'devices.listed'; inputs: AvailableDevice[]; outputs: AvailableDevice[]; error: string | null }
  | { type: 'stopped' };

export interface AvailableDevice {
  name: string;
  default: boolean;
}
