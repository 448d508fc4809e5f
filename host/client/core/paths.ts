// Where the client keeps its files. Two directories, because they differ in
// kind: the config dir holds what the user chose (servers, trusted
// certificates, settings, plugin grants) and is worth backing up; the state dir
// holds what the client produces (logs) and can be deleted at any time.
//
// Linux and other Unixes follow the XDG Base Directory spec:
//   config: $XDG_CONFIG_HOME/hearth  (default ~/.config/hearth)
//   state:  $XDG_STATE_HOME/hearth   (default ~/.local/state/hearth)
// The spec says a relative XDG_* value is invalid and must be ignored, so it is.
// macOS: ~/Library/Application Support/Hearth for config and
//   ~/Library/Application Support/Hearth/state for state (Apple's place for
//   app data; ~/Library/Preferences is for plists).
// Windows: %APPDATA%\Hearth for config (roams with the profile: servers and
//   settings follow the user) and %LOCALAPPDATA%\Hearth for state (logs stay
//   on the machine); %USERPROFILE%\AppData\{Roaming,Local} if those are unset.
// On macOS and Windows an explicitly set XDG_* variable still wins: someone who
// sets it on purpose expects it to be honoured.
//
// One override for everything: the `home` option or $HEARTH_CLIENT_HOME puts
// config in <home>/config and state in <home>/state. Tests use it with a temp
// dir; it also gives a portable install (a client on a USB stick).
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, win32 } from 'node:path';

export const CLIENT_HOME_ENV = 'HEARTH_CLIENT_HOME';

export interface ClientPaths {
  /** User choices: servers.json, known_hosts.json, settings.json, plugin-grants.json. */
  configDir: string;
  /** Things the client produces and may lose: logs. */
  stateDir: string;
  /** Rolling log files (<state>/logs). */
  logDir: string;
}

export interface ClientPathOptions {
  /** Overrides everything (as HEARTH_CLIENT_HOME does): config and state under it. */
  home?: string;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.platform. */
  platform?: NodeJS.Platform;
  /** Defaults to os.homedir(). */
  homeDir?: string;
}

/** An XDG variable counts only when set to an absolute path (XDG spec). */
function xdg(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v && isAbsolute(v) ? v : undefined;
}

export function clientPaths(opts: ClientPathOptions = {}): ClientPaths {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const home = opts.homeDir ?? homedir();
  const override = opts.home ?? (env[CLIENT_HOME_ENV] || undefined);
  let configDir: string;
  let stateDir: string;
  if (override !== undefined) {
    const base = resolve(override);
    configDir = join(base, 'config');
    stateDir = join(base, 'state');
  } else if (platform === 'win32') {
    // win32.join so the result has backslashes even when computed (in tests) on Linux.
    configDir = xdg(env, 'XDG_CONFIG_HOME') ? join(xdg(env, 'XDG_CONFIG_HOME')!, 'hearth') : win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), 'Hearth');
    stateDir = xdg(env, 'XDG_STATE_HOME') ? join(xdg(env, 'XDG_STATE_HOME')!, 'hearth') : win32.join(env.LOCALAPPDATA || win32.join(home, 'AppData', 'Local'), 'Hearth');
  } else if (platform === 'darwin') {
    const support = join(home, 'Library', 'Application Support', 'Hearth');
    configDir = xdg(env, 'XDG_CONFIG_HOME') ? join(xdg(env, 'XDG_CONFIG_HOME')!, 'hearth') : support;
    stateDir = xdg(env, 'XDG_STATE_HOME') ? join(xdg(env, 'XDG_STATE_HOME')!, 'hearth') : join(support, 'state');
  } else {
    configDir = join(xdg(env, 'XDG_CONFIG_HOME') ?? join(home, '.config'), 'hearth');
    stateDir = join(xdg(env, 'XDG_STATE_HOME') ?? join(home, '.local', 'state'), 'hearth');
  }
  return { configDir, stateDir, logDir: join(stateDir, 'logs') };
}
