// The call channel between a plugin's owner (the thread that holds a
// PluginHost: the main thread, or the audio thread) and the plugin's sandbox
// thread. One SharedArrayBuffer per plugin:
//
//   bytes 0..63   16 x int32 control words (Ctrl below)
//   bytes 64..    data area: the owner writes the call's input at 0; the
//                 sandbox writes the output at 0 and the effects JSON right
//                 after it (the input has been copied out by then)
//
// A call: the owner writes the input, sets Command/InputLen, increments
// ReqSeq and notifies it. The sandbox (blocked in Atomics.wait on ReqSeq)
// runs the call, writes Status/OutputLen/EffectsLen/..., stores ReqSeq's
// value into RespSeq and notifies it. The owner waits on RespSeq with a
// deadline (Atomics.wait on a worker thread, Atomics.waitAsync on the main
// thread). Only one call is in flight per plugin.
//
// Messages that are not calls (state snapshots) go over a MessagePort that
// the sandbox drains synchronously (receiveMessageOnPort) before each call.

import type { WasmModule } from './platform.js';

export const CTRL_WORDS = 16;
export const DATA_OFFSET = CTRL_WORDS * 4;

export const Ctrl = {
  ReqSeq: 0,
  RespSeq: 1,
  /** (command << 16) | hook index */
  Command: 2,
  InputLen: 3,
  Status: 4,
  OutputLen: 5,
  EffectsLen: 6,
  /** Size of the guest's linear memory after the call, in KiB. */
  MemoryKiB: 7,
  /** Guest execution time of the call, in microseconds. */
  ElapsedUs: 8,
  /** Calls served since the sandbox started. */
  Calls: 9,
} as const;
export type Ctrl = (typeof Ctrl)[keyof typeof Ctrl];

export const Command = {
  Call: 1,
  Reset: 2,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

export const Status = {
  Ok: 0,
  /** The guest trapped (unreachable, out-of-bounds, abort, host-side limit). */
  Trap: 1,
  /** Output + effects did not fit the data area. */
  OutputTooLarge: 2,
  /** The guest set an Extism error (error_set) instead of an output. */
  GuestError: 3,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Side effects a call requested through host functions, applied by the owner once the call ends. */
export type Effect =
  | { kind: 'log'; level: LogLevel; msg: string; source: 'guest' | 'host'; data?: Record<string, unknown> }
  | { kind: 'chat.send'; text: string; channelId?: number }
  | { kind: 'moderation'; action: 'kick' | 'mute' | 'unmute'; userId: number; reason: string }
  | { kind: 'kv.set'; key: string; value: string }
  | { kind: 'kv.delete'; key: string };

/** What the sandbox thread gets at start (worker_threads workerData). */
export interface SandboxInit {
  pluginId: string;
  sab: SharedArrayBuffer;
  module: WasmModule;
  hooks: string[];
  grants: string[];
  config: Record<string, unknown>;
  kv: [string, string][];
  state: unknown;
  memoryMiB: number;
  storageBytes: number;
  /** Call-count interval of Extism's plugin.reset(). */
  resetEvery: number;
}

/** Messages over the state port (owner -> sandbox). */
export type PortMessage = { type: 'state'; state: unknown };

/** Messages on parentPort (sandbox -> owner) during start-up. */
export type StartupMessage = { type: 'ready'; memoryKiB: number } | { type: 'load-error'; message: string };
