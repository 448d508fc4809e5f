// Where the C and JavaScript test guests are (built by
// scripts/build-guests-native.mjs from examples/, after tsc), and the failure
// a test reports when they were not built because a toolchain is missing.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { missingTools } from '../../host/cli/plugin-build.js';
import { repoRoot } from './helpers.js';

export function nativeGuestDir(name: string): string {
  return join(repoRoot, 'test', 'plugins', 'guests', 'build', 'native', name);
}

/** The built guest's directory; fails the test, naming the install script, when it is absent. */
export async function requireNativeGuest(name: string, lang: 'c' | 'js'): Promise<string> {
  const dir = nativeGuestDir(name);
  if (existsSync(join(dir, `${name}.wasm`))) return dir;
  const missing = await missingTools(lang);
  return assert.unreachable(
    `${name} (${lang === 'c' ? 'C' : 'JavaScript'}) was not built: ${missing.length ? `missing ${missing.join(', ')}; ` : ''}run \`sh scripts/ensure-toolchains.sh\`, then \`node scripts/build-guests-native.mjs\``,
  ) as never;
}

/** Fails the test, naming the install script, when the toolchain for `lang` is missing. */
export async function requireToolchain(lang: 'c' | 'js'): Promise<void> {
  const missing = await missingTools(lang);
  if (missing.length) assert.unreachable(`missing ${missing.join(', ')}: run \`sh scripts/ensure-toolchains.sh\` (Debian packages clang lld wasi-libc libclang-rt-dev-wasm32; npm packages qjsc, @bytecodealliance/wizer)`);
}

/**
 * Raises a manifest's time limits in place: these tests check what a guest
 * does, not how fast (a loaded 2-core machine can make any call late); the
 * bench measures speed.
 */
export function relaxLimits(manifestPath: string, limits: Record<string, number> = {}): void {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { limits: Record<string, number> };
  m.limits = { ...m.limits, callMs: 1000, killMs: 5000, overrunLimit: 100, ...limits };
  writeFileSync(manifestPath, JSON.stringify(m, null, 2));
}

/** A copy of a built native guest (manifest + wasm) in a temp directory, with relaxed limits; returns its manifest path. */
export function relaxedCopy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hearth-${name}-`));
  copyFileSync(join(nativeGuestDir(name), `${name}.wasm`), join(dir, `${name}.wasm`));
  copyFileSync(join(nativeGuestDir(name), 'manifest.json'), join(dir, 'manifest.json'));
  relaxLimits(join(dir, 'manifest.json'));
  return join(dir, 'manifest.json');
}
