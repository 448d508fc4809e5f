// Plugin development commands: `hearth plugin new <name> --kind <kind> --lang
// as|c|js` and `hearth plugin build [dir]`.
//
// A plugin directory holds its source (index.ts: AssemblyScript; index.c: C;
// plugin.js: JavaScript; the build picks the language from which one exists),
// manifest.json and, once built, the wasm named by the manifest (wasm.file)
// next to it; the build also writes the wasm's sha256 into manifest.json. Such
// a directory is what `hearth plugin install <dir>/manifest.json` takes. C and
// JavaScript are compiled by plugin-build.ts.
//
// The plugin imports the SDK as the package "hearth-sdk". No package is
// installed for it: the compiler's file reads for node_modules/hearth-sdk/…
// are answered from this installation's sdk/assembly/ (found from this
// module's own location: dist/host/cli/plugin-dev.js -> ../../../sdk), so a
// plugin builds anywhere on disk, with no network and no npm install.
//
// Compiler flags are those of scripts/build-guests.mjs (first-party guests),
// with the SDK's abort handler named by its package path.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifest, PAGES_PER_MIB } from '../plugins/manifest.js';
import { prepareModule } from '../plugins/wasm-limits.js';
import { compileC, compileJs, ToolchainError } from './plugin-build.js';

/** A problem the user can fix (bad name, existing directory, compile error); print its message, not a stack. */
export class PluginDevError extends Error {
  override name = 'PluginDevError';
}

export const PLUGIN_KINDS = ['bot', 'moderation', 'effect', 'layout'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** Source languages: AssemblyScript, C, JavaScript (QuickJS). */
export const PLUGIN_LANGS = ['as', 'c', 'js'] as const;
export type PluginLang = (typeof PLUGIN_LANGS)[number];
/** The source file of each language, in a plugin directory. */
export const SOURCE_FILE: Record<PluginLang, string> = { as: 'index.ts', c: 'index.c', js: 'plugin.js' };
const LANG_NAME: Record<PluginLang, string> = { as: 'AssemblyScript (TypeScript syntax, compiled to WebAssembly)', c: 'C (freestanding, sdk/c/hearth.h)', js: 'JavaScript (run by QuickJS inside the wasm)' };

/** The language of the plugin in `dir`, from its source file; null when it has none. */
export function detectLang(dir: string): PluginLang | null {
  for (const lang of PLUGIN_LANGS) if (existsSync(join(dir, SOURCE_FILE[lang]))) return lang;
  return null;
}

/** Where to print progress (process.stdout by default). */
export interface DevOutput {
  write(chunk: string): unknown;
}

/** The package name plugins import the SDK by. */
export const SDK_PACKAGE = 'hearth-sdk';

const ID_RE = /^[a-z][a-z0-9-]{1,39}$/;
const ZERO_SHA = '0'.repeat(64);

/** This installation's sdk/ directory (AssemblyScript SDK, templates, manifest schema). */
export function sdkDir(): string {
  // dist/host/cli/plugin-dev.js -> <package>/sdk
  return fileURLToPath(new URL('../../../sdk/', import.meta.url));
}

const KIND_NOTES: Record<PluginKind, { what: string; hooks: string; try: string }> = {
  bot: {
    what: 'a chat bot: greets users who join (counting their visits in storage) and answers `/hello`',
    hooks: '`on_join` (a user entered a channel) and `on_command` (the commands listed in `manifest.json`)',
    try: 'join a channel (the bot greets you), then type `/hello`',
  },
  moderation: {
    what: 'a chat filter: blocks messages containing a configured word and mutes a user after `muteAfter` strikes',
    hooks: '`on_chat` (every chat message; answer allow, block or rewrite)',
    try: 'say a word from the config (default `badword`): the message is blocked; the third time you are muted',
  },
  effect: {
    what: 'an audio effect: a gain followed by a soft limiter on each 20 ms capture frame',
    hooks: '`on_audio_raw` (960 f32 samples in, 960 out, before Opus)',
    try: 'set `"gain"` in the config and listen',
  },
  layout: {
    what: "a layout for the desktop client: arranges the window's widgets (panels, tabs) from the connection state and window size",
    hooks: '`on_layout` (capability `ui.layout`: LayoutInput in, a LayoutTree out; docs/PLUGINS.md §14)',
    try: 'run `npx hearth client --layout DIR/manifest.json`, or pick it in the window\'s Layout menu',
  },
};

function titleOf(id: string): string {
  return id
    .split('-')
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

function readme(id: string, name: string, kind: PluginKind, capabilities: string[], dir: string, lang: PluginLang): string {
  const k = KIND_NOTES[kind];
  const parent = basename(dir);
  const src = SOURCE_FILE[lang];
  const buildNote: Record<PluginLang, string> = {
    as: `This compiles \`index.ts\` (no network, no \`npm install\`: the SDK,\nimported as \`"${SDK_PACKAGE}"\`, comes with Hearth)`,
    c: 'This compiles `index.c` with clang for wasm32 (no libc; the SDK, `hearth.h`,\ncomes with Hearth; clang and lld: `scripts/ensure-toolchains.sh`)',
    js: 'This embeds `plugin.js` in a QuickJS engine compiled to wasm and\npre-initialises it (the first build compiles the engine, about a minute;\nclang and wasi-libc: `scripts/ensure-toolchains.sh`)',
  };
  return `# ${name}

A Hearth plugin (${kind}): ${k.what}.

| file | what it is |
|---|---|
| \`${src}\` | the plugin, in ${LANG_NAME[lang]} |
| \`manifest.json\` | its id, hooks, commands, the capabilities it asks for, its config and limits |
| \`${id}.wasm\` | the compiled plugin (written by the build, with its sha256 in \`manifest.json\`) |

Hooks: ${k.hooks}. Capabilities it asks for: ${capabilities.map((c) => `\`${c}\``).join(', ')}.

## Build

From the directory above this one:

    npx hearth plugin build ${parent}

${buildNote[lang]} and writes \`${id}.wasm\`
and its sha256. Build again after every change, or let

    npx hearth plugin dev ${parent}

rebuild on every save and hot-reload it on a local server.

## Install on a server

    npx hearth plugin install ${parent}/manifest.json --grant-requested --data ./hearth-data

\`--grant-requested\` grants every capability the manifest asks for; use
\`--grant cap1,cap2\` to grant fewer (hooks whose capability is not granted are
not called; host functions reply \`CAPABILITY_DENIED\`). An installed plugin is
reloaded when its files change: build, install again, and the server picks it
up. \`npx hearth plugin list --data ./hearth-data\` shows its state and faults.

Try it: ${k.try}.

## Edit

- Hooks are ${lang === 'js' ? 'top-level function declarations' : lang === 'c' ? 'functions declared with \`HEARTH_HOOK(name)\`' : 'exported functions'} named \`on_chat\`, \`on_join\`, \`on_leave\`,
  \`on_command\`, \`on_timer\`, \`on_audio\`, \`on_audio_raw\`; list the ones you
  ${lang === 'js' ? 'define' : 'export'} in \`manifest.json\` (\`"hooks"\`), chat commands in \`"commands"\`.
- Each host function needs a capability in \`"capabilities"\`: \`state.read\`,
  \`chat.intercept\`, \`chat.inject\`, \`audio.intercept\`, \`storage\`,
  \`moderation\`, \`log\`, \`config.read\`. Ask only for what you use.
- Guests have no clock, no randomness, no files and no network: time comes in
  the events (\`ts\`, milliseconds); seed a generator from it (\`Rng\` in the SDK).
- A plugin that traps, loops or overruns its time limit is disabled; the
  server keeps running. \`limits\` in \`manifest.json\` sets memory, time and
  storage.

The full reference (hooks, JSON shapes, host functions, limits) is
\`docs/PLUGINS.md\` in the Hearth sources.
`;
}

/**
 * Creates `<parentDir>/<name>/` from the template of `kind`: index.ts,
 * manifest.json (id = name) and README.md. Refuses a directory that exists
 * and is not empty. Returns the new directory.
 */
export async function pluginNew(name: string, kind: PluginKind, parentDir: string, out: DevOutput = process.stdout, lang: PluginLang = 'as'): Promise<string> {
  if (!ID_RE.test(name)) {
    throw new PluginDevError(`invalid plugin name "${name}": 2-40 characters of a-z, 0-9 and "-", starting with a letter (it becomes the plugin id)`);
  }
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) throw new PluginDevError(`unknown kind "${kind}" (one of ${PLUGIN_KINDS.join(', ')})`);
  if (!(PLUGIN_LANGS as readonly string[]).includes(lang)) throw new PluginDevError(`unknown language "${lang}" (one of ${PLUGIN_LANGS.join(', ')})`);
  const srcFile = SOURCE_FILE[lang];
  if (!existsSync(join(sdkDir(), 'templates', kind, srcFile))) throw new PluginDevError(`there is no ${lang} template for a ${kind} plugin (layouts are AssemblyScript only)`);
  const dir = resolve(parentDir, name);
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new PluginDevError(`${dir} already exists and is not empty`);
  const templateDir = join(sdkDir(), 'templates', kind);
  const displayName = titleOf(name);
  const values = {
    id: name,
    name: displayName,
    schema: relative(dir, join(sdkDir(), 'manifest.schema.json')).split(sep).join('/'),
  };
  const source = fill(await readFile(join(templateDir, srcFile), 'utf8'), values);
  const manifestText = fill(await readFile(join(templateDir, 'manifest.json'), 'utf8'), values);
  const manifest = parseManifest(JSON.parse(manifestText), `template ${kind}`); // a template must be valid
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, srcFile), source);
  await writeFile(join(dir, 'manifest.json'), manifestText);
  await writeFile(join(dir, 'README.md'), readme(name, displayName, kind, manifest.capabilities, dir, lang));
  out.write(`created ${shown(dir)}/ (${kind}, ${lang}): ${srcFile}, manifest.json, README.md\n`);
  out.write(`next: edit ${shown(join(dir, srcFile))}, then: hearth plugin build ${shown(dir)} (or: hearth plugin dev ${shown(dir)})\n`);
  return dir;
}

/** A path as the user would type it: relative to the working directory when below it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Compiles one AssemblyScript entry file to wasm; throws with the compiler's diagnostics. */
export async function compileGuest(entry: string): Promise<Uint8Array> {
  const baseDir = dirname(resolve(entry));
  const entryPath = resolve(entry);
  const sdkAssembly = join(sdkDir(), 'assembly');
  const pkgPrefix = `${sep}node_modules${sep}${SDK_PACKAGE}${sep}`;
  // Loaded on demand: the compiler (binaryen) takes ~1 s to import, which
  // other `hearth` commands should not pay.
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | null = null;
  const stderr = asc.createMemoryStream();
  const stdout = asc.createMemoryStream();
  const { error } = await asc.main(
    [
      basename(entry),
      '--outFile',
      `${basename(entry, '.ts')}.wasm`,
      '--baseDir',
      baseDir,
      '-O3',
      '--runtime',
      'incremental',
      '--use',
      `abort=~lib/${SDK_PACKAGE}/index/hearthAbort`,
      '--noColors',
    ],
    {
      stdout,
      stderr,
      readFile: async (file: string, dir: string) => {
        let path = resolve(dir, file);
        const at = path.lastIndexOf(pkgPrefix);
        if (at >= 0) path = join(sdkAssembly, path.slice(at + pkgPrefix.length));
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch {
          return null;
        }
        // The abort handler lives in the SDK: make sure the SDK is part of the
        // program even when the plugin does not import it (a side-effect
        // import adds no exports to the wasm).
        if (path === entryPath && !text.includes(`"${SDK_PACKAGE}"`) && !text.includes(`'${SDK_PACKAGE}'`)) text += `\nimport "${SDK_PACKAGE}";\n`;
        return text;
      },
      writeFile: (file: string, contents: Uint8Array | string) => {
        if (file.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      listFiles: () => [],
    },
  );
  if (error) {
    const diagnostics = stderr.toString().trim();
    throw new PluginDevError(`${entry} does not compile: ${error.message}${diagnostics ? `\n${diagnostics}` : ''}`);
  }
  if (!binary) throw new PluginDevError(`${entry}: the compiler produced no wasm`);
  return binary;
}

/**
 * Builds the plugin in `dir`: checks manifest.json, compiles index.ts with the
 * SDK, checks the wasm the way the host will (imports, hook exports, memory),
 * writes it next to the manifest (wasm.file) and its sha256 into manifest.json.
 */
export async function pluginBuild(dir: string, out: DevOutput = process.stdout): Promise<{ wasmPath: string; sha256: string }> {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  const entry = join(root, 'index.ts');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new PluginDevError(`cannot read ${manifestPath}: ${(err as Error).message}`);
  }
  const manifest = parseManifest(raw, manifestPath);
  const lang = detectLang(root);
  if (lang === null) throw new PluginDevError(`${entry} not found (nor index.c, nor plugin.js)`);
  const started = performance.now();
  let wasm: Uint8Array;
  try {
    if (lang === 'as') wasm = await compileGuest(entry);
    else if (lang === 'c') wasm = await compileC(root);
    else wasm = await compileJs(root, manifest.hooks, (line) => out.write(line));
  } catch (err) {
    if (err instanceof ToolchainError) throw new PluginDevError(err.message);
    throw err;
  }
  // The host's load-time checks, now rather than at install: only Extism and
  // Hearth imports, every declared hook exported, memory under the cap.
  await prepareModule(wasm, { pluginId: manifest.id, maxPages: manifest.limits.memoryMiB * PAGES_PER_MIB, requiredExports: manifest.hooks });
  const wasmPath = join(root, manifest.wasm.file);
  await mkdir(dirname(wasmPath), { recursive: true });
  await writeFile(wasmPath, wasm);
  const sha256 = createHash('sha256').update(wasm).digest('hex');
  const wasmField = (typeof raw.wasm === 'object' && raw.wasm !== null ? raw.wasm : {}) as Record<string, unknown>;
  if (wasmField.sha256 !== sha256) {
    raw.wasm = { ...wasmField, file: manifest.wasm.file, sha256 };
    await writeFile(manifestPath, JSON.stringify(raw, null, 2) + '\n');
  }
  const ms = (performance.now() - started).toFixed(0);
  out.write(`built ${shown(wasmPath)} (${(wasm.length / 1024).toFixed(1)} KiB, ${ms} ms), sha256 ${sha256}\n`);
  if (manifest.wasm.sha256 === ZERO_SHA) out.write(`next: hearth plugin install ${shown(manifestPath)} --grant-requested\n`);
  return { wasmPath, sha256 };
}
