// Parts of bench/plugin-call.ts:
//   languages   the same bot (sdk/templates/bot) in AssemblyScript, C and
//               JavaScript, built with `hearth plugin build` and run through
//               the PluginHost: wasm size, build time, load time, the first
//               call after load (the host warms guests up at load), then
//               /hello (no host call) and on_join (kv_get, kv_set, chat_send).
//   wordfilter  the shipped wordfilter with 500 words on 19,000-character
//               messages (issue 11: 64-131 ms per message before the
//               automaton): guest time per message, clean (a full scan) and
//               with three words to mask.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pluginBuild, pluginNew, type PluginLang } from '../host/cli/plugin-dev.js';
import { missingTools } from '../host/cli/plugin-build.js';
import { ChatOutput, CommandOutput, EventOutput } from '../host/plugins/hooks.js';
import { silentLogger } from '../host/log/logger.js';
import { parseManifest } from '../host/plugins/manifest.js';
import { PluginHost } from '../host/plugins/runtime.js';

interface Figures {
  p50: number;
  p99: number;
  mean: number;
}
type Measure = (fn: () => Promise<unknown>, n?: number) => Promise<Figures>;
const r1 = (x: number): number => Math.round(x * 10) / 10;
const quiet = { write: () => true };

export async function languageFigures(measure: Measure, n: number): Promise<Record<string, unknown>> {
  const tmp = mkdtempSync(join(tmpdir(), 'hearth-bench-langs-'));
  const out: Record<string, unknown> = {};
  try {
    for (const lang of ['as', 'c', 'js'] as PluginLang[]) {
      if (lang !== 'as') {
        const missing = await missingTools(lang);
        if (missing.length) {
          out[lang] = { skipped: `missing ${missing.join(', ')} (scripts/ensure-toolchains.sh)` };
          continue;
        }
      }
      const id = `bench-${lang}`;
      const dir = await pluginNew(id, 'bot', tmp, quiet, lang);
      const b0 = performance.now();
      const built = await pluginBuild(dir, quiet);
      const buildMs = r1(performance.now() - b0);
      const raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      const manifest = parseManifest({ ...raw, limits: { ...(raw.limits as object), callMs: 1000, killMs: 10_000, overrunLimit: 100 } });
      const host = new PluginHost({ logger: silentLogger() });
      const l0 = performance.now();
      await host.load({ manifest, wasm: new Uint8Array(readFileSync(built.wasmPath)), grants: manifest.capabilities });
      const loadMs = r1(performance.now() - l0);
      const hello = { command: 'hello', args: '', user: { id: 1, name: 'ann' }, channelId: 1, ts: 0 };
      const f0 = performance.now();
      const first = await host.callJson(id, 'on_command', hello, CommandOutput, true);
      const firstCallMs = r1(performance.now() - f0);
      const firstGuestMs = first.status === 'ok' ? r1(first.elapsedUs / 1000) : first.status;
      let ts = 0;
      const figures = {
        wasmKiB: r1(readFileSync(built.wasmPath).length / 1024),
        buildMs,
        loadMs,
        firstCallMs,
        firstGuestMs,
        command: await measure(async () => {
          const o = await host.callJson(id, 'on_command', hello, CommandOutput, true);
          if (o.status !== 'ok') throw new Error(`${lang} command: ${o.status}`);
        }, n),
        joinWith3HostCalls: await measure(async () => {
          const o = await host.callJson(id, 'on_join', { user: { id: 1 + (ts % 50), name: 'ann' }, channelId: 1, ts: ts++ }, EventOutput, true);
          if (o.status !== 'ok') throw new Error(`${lang} join: ${o.status}`);
        }, Math.min(n, 2000)),
      };
      await host.close();
      out[lang] = figures;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

export async function wordfilterFigures(root: string, calls: number): Promise<Record<string, unknown>> {
  const raw = JSON.parse(readFileSync(join(root, 'manifests', 'wordfilter.json'), 'utf8')) as Record<string, unknown>;
  const manifest = parseManifest({ ...raw, limits: { ...(raw.limits as object), callMs: 1000, killMs: 10_000, overrunLimit: 100 } });
  const wasm = new Uint8Array(readFileSync(join(root, 'guests', 'wordfilter', 'build', 'wordfilter.wasm')));
  let x = 7;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  const words: string[] = [];
  while (words.length < 500) {
    let w = '';
    for (let i = 0, len = 6 + Math.floor(rnd() * 7); i < len; i++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    if (!words.includes(w)) words.push(w);
  }
  let text = '';
  while (text.length < 19_000) text += 'the quick brown fox jumps over the lazy dog and keeps on running ';
  text = text.slice(0, 19_000);
  const dirty = `${words[3]} ${text.slice(0, 9000)} ${words[200]} ${text.slice(9000, 18_900)} ${words[499]}`;
  const result: Record<string, unknown> = { words: 500, chars: 19_000, beforeAutomatonMs: '64-131 (issue 11)' };
  for (const mode of ['block', 'mask'] as const) {
    const host = new PluginHost({ logger: silentLogger() });
    await host.load({ manifest, wasm, grants: manifest.capabilities, config: { words, mode, greet: false, announce: false, muteAfter: 0, kickAfter: 0 } });
    const guest = async (t: string, expect: string): Promise<Figures> => {
      const us: number[] = [];
      for (let i = 0; i < calls + 20; i++) {
        const o = await host.callJson('wordfilter', 'on_chat', { channelId: 1, user: { id: 1 + (i % 20), name: 'u' }, text: t, ts: i }, ChatOutput);
        if (o.status !== 'ok' || o.value.action !== expect) throw new Error(`wordfilter ${mode}: ${o.status === 'ok' ? o.value.action : o.status}`);
        if (i >= 20) us.push(o.elapsedUs);
      }
      us.sort((a, b) => a - b);
      return { p50: r1(us[us.length >> 1]! / 1000), p99: r1(us[Math.floor(us.length * 0.99)]! / 1000), mean: r1(us.reduce((a, b) => a + b, 0) / us.length / 1000) };
    };
    const clean = await guest(text, 'allow');
    // Over 4000 characters a masked text cannot be returned (the rewrite limit): mask mode blocks it.
    const matched = await guest(dirty, 'block');
    const short = await guest(dirty.slice(0, 3990), mode === 'block' ? 'block' : 'rewrite');
    result[mode] = { unit: 'guest ms per message', clean, matched, matched3990: short, messagesPerSecond: Math.round(1000 / clean.mean) };
    await host.close();
  }
  return result;
}
