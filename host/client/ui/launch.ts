// Opens the UI: a Chromium-family browser in app mode (its own window, no
// tabs or address bar, its own profile directory so it does not mix with the
// user's browsing), else the system's default browser. The caller prints the
// address first either way, so a person can always open it by hand.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';

export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge', 'microsoft-edge-stable'];

/** The first of `names` that is an executable on PATH. */
export function findOnPath(names: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const name of names) {
    for (const dir of dirs) {
      for (const ext of exts) {
        const p = join(dir, name + ext);
        try {
          accessSync(p, constants.X_OK);
          return p;
        } catch {
          // next
        }
      }
    }
  }
  return null;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  kind: 'app' | 'default-browser';
}

/** What would be run to open `url` (null: nothing can open it here). */
export function launchPlan(url: string, o: { profileDir: string; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; isRoot?: boolean }): LaunchPlan | null {
  const env = o.env ?? process.env;
  const platform = o.platform ?? process.platform;
  const chromium = env.HEARTH_BROWSER ?? findOnPath(CHROMIUM_NAMES, env);
  if (chromium) {
    const args = [`--app=${url}`, `--user-data-dir=${o.profileDir}`, '--no-first-run', '--no-default-browser-check'];
    // Chromium refuses to run as root without it.
    if (o.isRoot ?? process.getuid?.() === 0) args.push('--no-sandbox');
    return { command: chromium, args, kind: 'app' };
  }
  if (platform === 'darwin') return { command: 'open', args: [url], kind: 'default-browser' };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url], kind: 'default-browser' };
  const opener = findOnPath(['xdg-open'], env);
  return opener ? { command: opener, args: [url], kind: 'default-browser' } : null;
}

export interface Launched {
  plan: LaunchPlan | null;
  /** The app window's process (app mode only): its exit means the user closed the window. */
  child: ChildProcess | null;
}

export function openUi(url: string, o: { profileDir: string; logger: Logger }): Launched {
  const log = o.logger.child({ component: 'launch' });
  mkdirSync(o.profileDir, { recursive: true, mode: 0o700 });
  const plan = launchPlan(url, { profileDir: o.profileDir });
  if (!plan) {
    log.warn('no browser found (chromium, chromium-browser, google-chrome, microsoft-edge, xdg-open); open the address by hand');
    return { plan: null, child: null };
  }
  // The secret is part of the URL: log the command without it.
  log.info({ command: plan.command, kind: plan.kind }, `opening the UI with ${plan.command}`);
  const child = spawn(plan.command, plan.args, { stdio: 'ignore', detached: plan.kind === 'default-browser' });
  child.on('error', (err) => log.warn({ err: err.message }, `could not start ${plan.command}: ${err.message}; open the address by hand`));
  if (plan.kind === 'default-browser') {
    child.unref();
    return { plan, child: null };
  }
  return { plan, child };
}
