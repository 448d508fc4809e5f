// Client plugins in the desktop UI, in a real browser (headless Chromium via
// playwright-core, the helpers of browser.test.ts): the real desktop client
// process lists the shipped gain plugin in the Plugins tab, with what it may
// do in words, not granted and not running; the page grants it (the button
// says exactly what), switches it on, and sees it running with its calls
// counter rising; the grant lands in plugin-grants.json under the wasm's
// sha256; switching it off is live. Every control has an accessible name and
// is reached by Tab. Screenshots: ARTIFACTS (helpers/browser.ts).
//
// Without /usr/bin/chromium this FAILS, naming scripts/ensure-chromium.sh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { sha256Hex } from '../../host/plugins/manifest.js';
import { createUser, PASSWORD, startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser, repoRoot, screenshot, screenshots, unnamedControls, unreachableByTab, until } from './helpers/browser.js';
import { startDesktop, type Desktop } from './helpers/desktop.js';

const T = 10_000;
const GAIN_SHA = sha256Hex(readFileSync(join(repoRoot, 'guests', 'gain', 'build', 'gain.wasm')));

let t: TestServer;
let desktop: Desktop | null = null;
let browser: Browser | null = null;
let page: Page;
let setupError: Error | null = null;

test.before(async () => {
  try {
    browser = await launchBrowser();
    t = await startServer();
    await createUser(t, 'ann', 'member');
    // Pinned beforehand: this suite is about plugins, not the first-use certificate prompt.
    desktop = await startDesktop({ knownHosts: { [`127.0.0.1:${t.port}`]: t.fingerprint } });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(T);
  } catch (err) {
    setupError = err as Error;
    process.stderr.write(`browser plugins suite setup failed: ${(err as Error).stack ?? String(err)}\n`);
  }
});

test.after(async () => {
  await browser?.close();
  await desktop?.stop();
  await t?.stop();
  process.stdout.write(`\nbrowser plugins suite: screenshots in ${ARTIFACTS}:\n${screenshots.map((s) => `  ${s}`).join('\n')}\n`);
});

let failures = 0;
function step(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    if (setupError) throw setupError;
    try {
      await fn();
    } catch (err) {
      failures++;
      try {
        await screenshot(page, `FAILED-plugins-${failures}`);
        const tree = await page.locator('body').ariaSnapshot({ timeout: 2000 });
        (err as Error).message += `\n--- page (accessibility tree) at the failure, screenshot FAILED-plugins-${failures}.png:\n${tree.slice(0, 4000)}`;
      } catch {
        /* the page itself is gone */
      }
      throw err;
    }
  });
}

async function settled(): Promise<void> {
  await until(page, '!!(window.__HEARTH_PAGE__ && window.__HEARTH_PAGE__.store.snapshot && window.__HEARTH_PAGE__.store.layout)');
  await page.waitForTimeout(100);
}

async function a11y(where: string): Promise<void> {
  const unnamed = await unnamedControls(page);
  assert.equal(unnamed, [], `${where}: controls without an accessible name: ${JSON.stringify(unnamed)}`);
  const missed = await unreachableByTab(page);
  assert.equal(missed, [], `${where}: controls Tab never reaches: ${missed.join('; ')}`);
}

const gain = (): Locator => page.locator('li.plugin[data-plugin="gain"]');
const callsNow = async (): Promise<number> => Number((await gain().locator('.figures').getAttribute('data-calls')) ?? '0');

step('connect, open the Plugins tab: gain is listed with what it may do, not granted, not running', async () => {
  await page.goto(desktop!.url);
  await settled();
  for (let attempt = 1; ; attempt++) {
    for (const [label, value] of [['Server address', '127.0.0.1'], ['Port', String(t.port)], ['Username', 'ann'], ['Password', PASSWORD]] as const) await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const ok = await page.getByRole('status').filter({ hasText: /^\s*Connected\b/ }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
    if (ok) break;
    if (attempt === 3) throw new Error('did not connect through the form (3 attempts)');
    await settled();
  }
  await settled();
  await page.getByRole('tablist', { name: 'Settings' }).getByRole('tab', { name: 'Plugins' }).click();
  await gain().waitFor();
  assert.is(await gain().getAttribute('data-status'), 'not granted');
  const text = await gain().innerText();
  assert.match(text, /Gain 1\.0\.0/);
  assert.match(text, /Not granted/);
  assert.match(text, /hear and change your microphone sound before it is sent \(audio\.intercept\): not granted/);
  assert.match(text, /read its own settings \(config\.read\): not granted/);
  assert.is(await gain().locator('.figures').count(), 0, 'no figures: not in the chain');
  // Only client audio plugins are listed: no layout or server-side plugin.
  assert.equal(await page.locator('li.plugin').evaluateAll((els) => els.map((e) => e.getAttribute('data-plugin'))), ['aec', 'gain', 'ns']);
  // The first-party echo canceller and noise suppressor run by default, with their settings and reports shown.
  for (const [id, name] of [['aec', 'Echo canceller'], ['ns', 'Noise suppression']] as const) {
    await until(page, `document.querySelector('li.plugin[data-plugin="${id}"]')?.dataset.status === 'running'`, T);
    const item = page.locator(`li.plugin[data-plugin="${id}"]`);
    await item.getByRole('group', { name: new RegExp(`${name} settings`, 'i') }).waitFor();
    // Part of Hearth: switched off, never revoked (no Revoke button to press in vain).
    await item.getByText('Part of Hearth').waitFor();
    assert.is(await item.getByRole('button', { name: /^Revoke/ }).count(), 0, `${id}: no Revoke`);
  }
  await page.locator('li.plugin[data-plugin="ns"]').getByRole('definition').first().waitFor();
  await screenshot(page, 'plugins-01-not-granted');
  await a11y('plugins, not granted');
});

step('Grant (the button names exactly what it grants), then Enable: it runs, its calls counter rising', async () => {
  const grant = gain().getByRole('button', { name: 'Grant Gain: hear and change your microphone sound before it is sent; read its own settings', exact: true });
  await grant.click();
  await gain().getByRole('button', { name: 'Revoke what Gain was granted' }).waitFor();
  await until(page, `document.querySelector('li.plugin[data-plugin="gain"]')?.dataset.status === 'disabled'`, T);
  assert.match(await gain().innerText(), /\(audio\.intercept\): granted/);
  // Recorded for that exact wasm.
  const grants = JSON.parse(readFileSync(join(desktop!.home, 'config', 'plugin-grants.json'), 'utf8')) as Record<string, { pluginId: string; grants: string[] }>;
  assert.equal(grants[GAIN_SHA]?.pluginId, 'gain');
  assert.equal(grants[GAIN_SHA]?.grants, ['audio.intercept', 'config.read']);
  await gain().getByRole('button', { name: 'Enable Gain', exact: true }).click();
  await until(page, `document.querySelector('li.plugin[data-plugin="gain"]')?.dataset.status === 'running'`, T);
  await gain().getByRole('button', { name: 'Disable Gain', exact: true }).waitFor();
  await gain().locator('.figures').waitFor();
  const a = await callsNow();
  await until(page, `Number(document.querySelector('li.plugin[data-plugin="gain"] .figures')?.dataset.calls ?? 0) > ${a}`, T);
  const b = await callsNow();
  assert.ok(b > a && a >= 0, `the calls counter rises: ${a} -> ${b}`);
  assert.match(await gain().locator('.figures').innerText(), /State running: \d+ calls, \d+ overruns, \d+ bypassed/);
  const settings = JSON.parse(readFileSync(join(desktop!.home, 'config', 'settings.json'), 'utf8')) as { plugins: { enabled: Record<string, boolean> } };
  assert.is(settings.plugins.enabled.gain, true, 'saved in settings.json');
  await screenshot(page, 'plugins-02-running');
  await a11y('plugins, running');
});

step('Disable is live: the counter stops; Revoke withdraws the grant', async () => {
  await gain().getByRole('button', { name: 'Disable Gain', exact: true }).click();
  await until(page, `document.querySelector('li.plugin[data-plugin="gain"]')?.dataset.status === 'disabled'`, T);
  // The chain thread says so too (its figures come with the engine's next report).
  await until(page, `document.querySelector('li.plugin[data-plugin="gain"] .figures')?.dataset.state === 'off'`, T);
  await page.waitForTimeout(300);
  const a = await callsNow();
  await page.waitForTimeout(500);
  assert.is(await callsNow(), a, 'no calls while disabled');
  await gain().getByRole('button', { name: 'Revoke what Gain was granted' }).click();
  await until(page, `document.querySelector('li.plugin[data-plugin="gain"]')?.dataset.status === 'not granted'`, T);
  const grants = JSON.parse(readFileSync(join(desktop!.home, 'config', 'plugin-grants.json'), 'utf8')) as Record<string, unknown>;
  assert.is(grants[GAIN_SHA], undefined);
});

test.run();
