// The real desktop client as a process: `hearth client --no-window --input
// virtual --output virtual` with its own HEARTH_CLIENT_HOME; the UI's address
// (with its per-run secret) is the first line of its stdout. And the second
// party of the tests: `hearth client --headless ... --play speech.wav`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, tempDir, type TestServer } from '../../helpers/server.js';
import { repoRoot } from './browser.js';

export const MAIN = join(repoRoot, 'dist', 'host', 'cli', 'main.js');
export const SPEECH = join(repoRoot, 'test', 'fixtures', 'speech.wav');
export const manifestPath = (id: string) => join(repoRoot, 'manifests', `${id}.json`);

export interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (null if killed by a signal). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let outBuf = '';
  child.stdout!.on('data', (d: Buffer) => {
    outBuf += d.toString();
    const lines = outBuf.split('\n');
    outBuf = lines.pop()!;
    stdout.push(...lines);
    child.emit('line');
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never leave a client running when the test process ends early (a crash, uvu exiting on an unhandled rejection).
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));
  return {
    child,
    stdout,
    stderr,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface Desktop extends Proc {
  url: string;
  home: string;
}

export interface DesktopOptions {
  home?: string;
  layout?: string;
  /** "host:port" → fingerprint pins written to known_hosts.json before start. */
  knownHosts?: Record<string, string>;
  extraArgs?: string[];
  timeoutMs?: number;
}

/** Starts the desktop client with no window and waits for the URL on its first stdout line. */
export async function startDesktop(opts: DesktopOptions = {}): Promise<Desktop> {
  const home = opts.home ?? tempDir('hearth-ui-home-');
  if (opts.knownHosts) {
    mkdirSync(join(home, 'config'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, 'config', 'known_hosts.json'), JSON.stringify(opts.knownHosts, null, 2) + '\n', { mode: 0o600 });
  }
  const args = ['client', '--no-window', '--input', 'virtual', '--output', 'virtual', ...(opts.layout ? ['--layout', opts.layout] : []), ...(opts.extraArgs ?? [])];
  const p = run(args, { HEARTH_CLIENT_HOME: home });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hearth client printed no URL within ${timeoutMs} ms.\nstdout: ${p.stdout.join('\n')}\nstderr: ${p.stderr.join('')}`)), timeoutMs);
    const check = () => {
      if (p.stdout.length === 0) return;
      clearTimeout(timer);
      p.child.off('line', check);
      resolve(p.stdout[0]!.trim());
    };
    p.child.on('line', check);
    void p.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hearth client exited (${code}) before printing its URL.\nstdout: ${p.stdout.join('\n')}\nstderr: ${p.stderr.join('')}`));
    });
  });
  const m = /^(http:\/\/127\.0\.0\.1:\d+\/\S*)$/.exec(url) ?? /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(url);
  if (!m) {
    await p.stop();
    throw new Error(`the first line of hearth client is not a 127.0.0.1 URL: ${JSON.stringify(url)}`);
  }
  return { ...p, url: m[1]!, home };
}

export interface PlayerOptions {
  channel?: string;
  seconds?: number;
  wav?: string;
  home?: string;
}

/** A second client: `hearth client --headless` as `user`, playing a WAV into its microphone. */
export function startPlayer(t: TestServer, user: string, opts: PlayerOptions = {}): Proc {
  const home = opts.home ?? tempDir('hearth-ui-player-');
  const pw = join(home, 'pw');
  writeFileSync(pw, PASSWORD + '\n');
  const args = ['client', '--headless', '--server', `127.0.0.1:${t.port}`, '--user', user, '--password-file', pw, '--fingerprint', t.fingerprint, '--play', opts.wav ?? SPEECH, '--voice', 'continuous'];
  if (opts.channel) args.push('--channel', opts.channel);
  if (opts.seconds) args.push('--seconds', String(opts.seconds));
  return run(args, { HEARTH_CLIENT_HOME: home });
}
