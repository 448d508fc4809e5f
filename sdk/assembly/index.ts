// Hearth guest SDK for AssemblyScript (host API v1).
//
// A plugin is a Wasm module that exports hook functions (on_chat, on_join,
// on_leave, on_command, on_timer, on_audio, on_audio_raw). Each hook reads its
// input with input*/inputJSON and writes its answer with output*. Host
// functions are wrapped below; each returns the host's JSON reply as text
// (errors look like {"error":"CAPABILITY_DENIED",...}).
//
// Compile with scripts/build-guests.mjs, which passes
//   --use abort=sdk/assembly/index/hearthAbort
// so that a failed assertion or an out-of-bounds access becomes a clean trap
// whose message the host records in its fault report.
import * as env from "./env";
import { Parser, Value, ObjectWriter, quote, Kind } from "./json";
import { ChatEvent, CommandEvent, PresenceEvent, TimerEvent } from "./events";
import { State, parseState } from "./state";

export { Parser, Value, ObjectWriter, quote, formatNumber, Kind } from "./json";
export { ChatEvent, CommandEvent, PresenceEvent, TimerEvent, UserRef } from "./events";
export { State, ChannelInfo, UserInfo, parseState } from "./state";
export { Rng, hashString } from "./rng";
export { LayoutInput, layoutInput, widget, row, column, panel, text, tabs, Theme, layoutTree, outputLayout } from "./layout";

// ---- memory blocks shared with the host -----------------------------------

function storeBytes(offset: u64, value: Uint8Array): void {
  const n = value.length;
  const whole = n & ~7;
  const ptr = value.dataStart;
  for (let i = 0; i < whole; i += 8) env.store_u64(offset + <u64>i, load<u64>(ptr + <usize>i));
  for (let i = whole; i < n; i++) env.store_u8(offset + <u64>i, load<u8>(ptr + <usize>i));
}

function loadBytes(offset: u64, n: i32): Uint8Array {
  const out = new Uint8Array(n);
  const whole = n & ~7;
  const ptr = out.dataStart;
  for (let i = 0; i < whole; i += 8) store<u64>(ptr + <usize>i, env.load_u64(offset + <u64>i));
  for (let i = whole; i < n; i++) store<u8>(ptr + <usize>i, env.load_u8(offset + <u64>i));
  return out;
}

function allocString(s: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const offset = env.alloc(<u64>bytes.length);
  storeBytes(offset, bytes);
  return offset;
}

function readString(offset: u64): string {
  if (offset == 0) return "";
  const n = <i32>env.length(offset);
  return String.UTF8.decode(loadBytes(offset, n).buffer);
}

// ---- hook input / output ----------------------------------------------------

/** The raw input bytes of the current hook call. */
export function input(): Uint8Array {
  const n = <i32>env.input_length();
  const out = new Uint8Array(n);
  const whole = n & ~7;
  const ptr = out.dataStart;
  for (let i = 0; i < whole; i += 8) store<u64>(ptr + <usize>i, env.input_load_u64(<u64>i));
  for (let i = whole; i < n; i++) store<u8>(ptr + <usize>i, env.input_load_u8(<u64>i));
  return out;
}

export function inputString(): string {
  return String.UTF8.decode(input().buffer);
}

/** The input parsed as JSON (null when it is not valid JSON). */
export function inputJSON(): Value | null {
  return Parser.parse(inputString());
}

/** Binary audio input: little-endian f32 samples (on_audio_raw). */
export function inputF32(): Float32Array {
  const bytes = input();
  return Float32Array.wrap(bytes.buffer, 0, bytes.length >> 2);
}

export function output(bytes: Uint8Array): void {
  const offset = env.alloc(<u64>bytes.length);
  storeBytes(offset, bytes);
  env.output_set(offset, <u64>bytes.length);
}

/** Writes a string as UTF-8 (the length is the UTF-8 byte length). */
export function outputString(s: string): void {
  output(Uint8Array.wrap(String.UTF8.encode(s)));
}

export function outputF32(samples: Float32Array): void {
  output(Uint8Array.wrap(samples.buffer, samples.byteOffset, samples.byteLength));
}

// ---- audio frames (the capture chain) ----------------------------------------
//
// Effects and the noise suppressor implement on_audio_raw (960 f32 in, 960
// out). The echo canceller implements on_aec_raw: its input is the mic frame
// followed by the far-end reference (the exact signal the speaker played,
// aligned sample for sample to this mic frame), 1920 f32; its output is the
// cleaned mic frame, 960 f32.

/** Samples in one 20 ms frame at 48 kHz. */
export const FRAME_SAMPLES: i32 = 960;

/**
 * Reads up to dst.length f32 input samples into `dst` (no allocation: a
 * stateful DSP guest can keep one buffer for its whole life). Returns how
 * many samples were read.
 */
export function inputF32Into(dst: Float32Array, fromSample: i32 = 0): i32 {
  const total = <i32>(env.input_length() >> 2) - fromSample;
  const n = total < dst.length ? (total > 0 ? total : 0) : dst.length;
  const ptr = dst.dataStart;
  const base = <u64>fromSample << 2;
  const pairs = n >> 1;
  for (let i = 0; i < pairs; i++) store<u64>(ptr + (<usize>i << 3), env.input_load_u64(base + (<u64>i << 3)));
  if (n & 1) {
    const last = <u64>(n - 1) << 2;
    let bits: u32 = 0;
    for (let b: u64 = 0; b < 4; b++) bits |= (<u32>env.input_load_u8(base + last + b)) << (<u32>b << 3);
    store<u32>(ptr + <usize>last, bits);
  }
  return n;
}

/** The two frames of an on_aec_raw call. */
export class AecFrame {
  constructor(
    /** The 960 mic samples (the signal to clean). */
    public mic: Float32Array,
    /** The 960 far-end samples played while the mic frame was recorded. */
    public reference: Float32Array,
  ) {}
}

/** on_aec_raw input split into its mic and reference frames (views of one buffer). */
export function inputAec(): AecFrame {
  const all = inputF32();
  const n = all.length >> 1;
  return new AecFrame(Float32Array.wrap(all.buffer, 0, n), Float32Array.wrap(all.buffer, n << 2, n));
}

/**
 * Answers with the input unchanged, without copying it (the output is the
 * input block itself): for an effect that leaves this frame alone. Only for
 * on_audio_raw (on_aec_raw must answer the 960 mic samples alone).
 */
export function passThrough(): void {
  env.output_set(env.input_offset(), env.input_length());
}

// ---- zero-copy frames (optional) ---------------------------------------------
//
// Reading a frame through Extism's input costs one host call per 8 bytes (480
// for a 960-sample frame, each with BigInt conversions on the host): about
// 55 µs and a lot of garbage per frame. An audio guest can skip that: export
// hearth_frame_buffer (re-export it from this SDK) and hearth_frame_process.
// The chain thread then writes the frame straight into FRAME_BUFFER in the
// guest's memory (mic at [0, 960), and for the AEC slot the reference at
// [960, 1920); frameGet / frameSet read and write it), calls hearth_frame_process(), and reads the processed frame
// back from [0, 960). hearth_frame_process must not call host functions (read
// config in the Extism hook, which the host calls once before the first frame).
// The Extism hook (on_audio_raw / on_aec_raw) stays the reference path.

/** Where the stats area starts in FRAME_BUFFER, in f32 (after mic and reference). */
export const FRAME_STATS_OFFSET: i32 = 1920;
/** How many f32 stats a guest may publish (their names are the manifest's audio.stats, in order). */
export const FRAME_STATS_COUNT: i32 = 16;

/**
 * The shared frame area of the zero-copy path, in static memory (never moves,
 * never collected): 1920 f32 (mic, then reference), then 16 f32 of stats the
 * guest publishes (statSet) and the host reads after every frame.
 */
export const FRAME_BUFFER: usize = memory.data((2 * 960 + 16) * 4, 16);

/** Sample i of the frame area (0..959: the mic frame, and the output; 960..1919: the reference). */
// @ts-ignore: decorator
@inline export function frameGet(i: i32): f32 {
  return load<f32>(FRAME_BUFFER + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function frameSet(i: i32, v: f32): void {
  store<f32>(FRAME_BUFFER + (<usize>i << 2), v);
}

/**
 * Publishes stat i (0..15) of this guest: the host copies the stats area after
 * every hearth_frame_process and the client state carries the newest values,
 * under the names the manifest lists in audio.stats (NaN means "no value yet").
 */
// @ts-ignore: decorator
@inline export function statSet(i: i32, v: f32): void {
  if (<u32>i < <u32>FRAME_STATS_COUNT) store<f32>(FRAME_BUFFER + (<usize>(FRAME_STATS_OFFSET + i) << 2), v);
}

/** Address of FRAME_BUFFER; re-export it from your entry file to opt in to zero-copy frames. */
export function hearth_frame_buffer(): usize {
  return FRAME_BUFFER;
}

// ---- host API v1 ------------------------------------------------------------

/** Read-only state: {"channels":[...],"users":[...]} (capability state.read). */
export function stateRead(): string {
  return readString(env.hearth_state_read(allocString("{}")));
}

/** Sends a chat message as the plugin's bot identity (capability chat.inject). */
export function chatSend(text: string, channelId: i32 = -1): string {
  const w = new ObjectWriter().str("text", text);
  if (channelId >= 0) w.num("channelId", channelId);
  return readString(env.hearth_chat_send(allocString(w.done())));
}

/** Persistent key/value storage (capability storage). Returns the raw reply. */
export function kvGetRaw(key: string): string {
  return readString(env.hearth_kv_get(allocString(new ObjectWriter().str("key", key).done())));
}

/** The stored string, or null when absent or when storage is denied. */
export function kvGet(key: string): string | null {
  const reply = Parser.parse(kvGetRaw(key));
  if (reply === null) return null;
  const v = reply.get("value");
  if (v === null || v.isNull()) return null;
  return v.s;
}

export function kvSet(key: string, value: string): string {
  return readString(env.hearth_kv_set(allocString(new ObjectWriter().str("key", key).str("value", value).done())));
}

export function kvDelete(key: string): string {
  return readString(env.hearth_kv_delete(allocString(new ObjectWriter().str("key", key).done())));
}

/** action: "kick" | "mute" | "unmute" (capability moderation). */
export function moderate(action: string, userId: i32, reason: string = ""): string {
  const req = new ObjectWriter().str("action", action).num("userId", userId).str("reason", reason).done();
  return readString(env.hearth_moderate(allocString(req)));
}

/** level: "debug" | "info" | "warn" | "error" (capability log). */
export function log(level: string, msg: string): string {
  return readString(env.hearth_log(allocString(new ObjectWriter().str("level", level).str("msg", msg).done())));
}

/** The plugin's effective config as a JSON object (capability config.read). */
export function configRaw(): string {
  return readString(env.hearth_config_get(allocString("{}")));
}

export function config(): Value | null {
  const reply = Parser.parse(configRaw());
  if (reply === null) return null;
  return reply.get("config");
}

/** Sends any JSON request to a host function and returns the JSON reply text (used by tests). */
export function rawCall(fn: string, json: string): string {
  const req = allocString(json);
  if (fn == "state_read") return readString(env.hearth_state_read(req));
  if (fn == "chat_send") return readString(env.hearth_chat_send(req));
  if (fn == "kv_get") return readString(env.hearth_kv_get(req));
  if (fn == "kv_set") return readString(env.hearth_kv_set(req));
  if (fn == "kv_delete") return readString(env.hearth_kv_delete(req));
  if (fn == "moderate") return readString(env.hearth_moderate(req));
  if (fn == "log") return readString(env.hearth_log(req));
  if (fn == "config_get") return readString(env.hearth_config_get(req));
  return '{"error":"UNKNOWN_FUNCTION"}';
}

// ---- typed hook input ------------------------------------------------------

/** The on_chat input, or null when the input is not a JSON object. */
export function chatEvent(): ChatEvent | null {
  const v = inputJSON();
  return v === null || v.kind != Kind.Object ? null : ChatEvent.from(v);
}

/** The on_command input, or null when the input is not a JSON object. */
export function commandEvent(): CommandEvent | null {
  const v = inputJSON();
  return v === null || v.kind != Kind.Object ? null : CommandEvent.from(v);
}

/** The on_join / on_leave input, or null when the input is not a JSON object. */
export function presenceEvent(): PresenceEvent | null {
  const v = inputJSON();
  return v === null || v.kind != Kind.Object ? null : PresenceEvent.from(v);
}

/** The on_timer input, or null when the input is not a JSON object. */
export function timerEvent(): TimerEvent | null {
  const v = inputJSON();
  return v === null || v.kind != Kind.Object ? null : TimerEvent.from(v);
}

// ---- hook answers --------------------------------------------------------------

/** on_chat: let the message through unchanged. */
export function allow(): void {
  outputString('{"action":"allow"}');
}

/** on_chat: drop the message; the sender is told `reason`. */
export function block(reason: string): void {
  outputString(new ObjectWriter().str("action", "block").str("reason", reason).done());
}

/** on_chat: replace the message's text (1-4000 characters). */
export function rewrite(text: string): void {
  outputString(new ObjectWriter().str("action", "rewrite").str("text", text).done());
}

/** on_command: answer the command (at most 4000 characters). */
export function reply(text: string): void {
  outputString(new ObjectWriter().str("reply", text).done());
}

/** on_command without an answer; also the empty answer of on_join / on_leave / on_timer. */
export function done(): void {
  outputString("{}");
}

// ---- conveniences over the host API ---------------------------------------------

/** True when a host function's reply is an error ({"error":...}). */
export function isError(replyJson: string): bool {
  const v = Parser.parse(replyJson);
  return v === null || v.get("error") !== null;
}

/** The newest server state (capability state.read), or null when it is denied. */
export function readState(): State | null {
  return parseState(stateRead());
}

/** A stored integer (capability storage); `fallback` when absent, not a number, or storage is denied. */
export function kvGetInt(key: string, fallback: i64 = 0): i64 {
  const s = kvGet(key);
  if (s === null || s.length == 0) return fallback;
  const n = I64.parseInt(s);
  return n == 0 && s != "0" ? fallback : n;
}

/** Stores an integer; false when the host refused (quota, capability). */
export function kvSetInt(key: string, value: i64): bool {
  return !isError(kvSet(key, value.toString()));
}

// ---- abort ----------------------------------------------------------------------

/** Abort handler (`--use abort=sdk/assembly/index/hearthAbort`): report, then trap. */
let aborting = false;
export function hearthAbort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  if (aborting) unreachable();
  aborting = true;
  const req = new ObjectWriter()
    .str("message", message === null ? "abort" : message)
    .str("file", fileName === null ? "" : fileName)
    .num("line", lineNumber)
    .num("column", columnNumber)
    .done();
  env.hearth_abort(allocString(req));
  unreachable();
}
