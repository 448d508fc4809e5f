// Helpers of the operations tests: scraping the metrics endpoint, running the
// real `hearth` CLI (dist/host/cli/main.js) as a separate process, and a
// `hearth server` process the tests can signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'host', 'cli', 'main.js');

export type Samples = Map<string, number>;

/** Parses the Prometheus text format: `name{labels} value` → a map keyed by `name{labels}`. */
export function parseMetrics(text: string): { samples: Samples; types: Map<string, string> } {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { samples, types };
}

export async function scrape(base: string): Promise<Samples> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text()).samples;
}

/** A sample's value; a missing series reads as 0 (a counter not yet moved). */
export const v = (s: Samples, key: string): number => s.get(key) ?? 0;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hearth ARGS...` to completion. */
export function runCli(args: string[], input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  fingerprint: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
}

/** Starts `hearth server ARGS...` and waits for its banner (port and fingerprint). */
export function spawnServer(args: string[], timeoutMs = 15_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN_JS, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const check = () => {
      const port = /listening on [^ ]+:(\d+) \(TLS/.exec(stdout)?.[1];
      const fp = /fingerprint: ([0-9A-F:]{95})/.exec(stdout)?.[1];
      if (port && fp) {
        clearTimeout(timer);
        resolve({ child, port: Number(port), fingerprint: fp, stdout: () => stdout, stderr: () => stderr, exited });
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${stdout}\n${stderr}`));
    });
  });
}
