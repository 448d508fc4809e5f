// Headless Chromium for the UI tests: Debian's `chromium` package driven by
// playwright-core (no browser download). When /usr/bin/chromium is missing
// the tests FAIL with a message saying how to install it; they never skip.
// Also: the accessibility checks (names from Chromium's own accessibility
// tree over CDP, keyboard reach by pressing Tab) and screenshots.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
/** dist/test/ui/helpers -> the repository root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** Where screenshots go: $HEARTH_UI_ARTIFACTS, else <repo>/artifacts/ui. */
export const ARTIFACTS = process.env.HEARTH_UI_ARTIFACTS ?? join(repoRoot, 'artifacts', 'ui');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium package. Run scripts/ensure-chromium.sh (as root; CI runs it) and try again.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export const screenshots: string[] = [];

/**
 * Polls a JavaScript expression in the page until it is truthy. (Not
 * page.waitForFunction: the page's Content-Security-Policy forbids the string
 * evaluation it uses; page.evaluate goes through the DevTools protocol.)
 */
export async function until(page: Page, expression: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for the page: ${expression}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Saves a full-page PNG as ARTIFACTS/<name>.png and remembers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  screenshots.push(path);
  return path;
}

/** Roles of controls a person operates: each needs an accessible name. */
const CONTROL_ROLES = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'switch', 'combobox', 'listbox', 'option', 'slider', 'spinbutton', 'tab', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'treeitem', 'PopUpButton', 'ToggleButton', 'TextField']);

interface AxValue {
  value?: unknown;
}
interface AxNode {
  nodeId: string;
  ignored: boolean;
  role?: AxValue;
  name?: AxValue;
  properties?: { name: string; value: AxValue }[];
  backendDOMNodeId?: number;
}

export interface AxControl {
  role: string;
  name: string;
  disabled: boolean;
}

/** Every control in Chromium's accessibility tree (not ignored: i.e. rendered and not aria-hidden). */
export async function axControls(page: Page): Promise<AxControl[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as unknown as { nodes: AxNode[] };
    return nodes
      .filter((n) => !n.ignored && CONTROL_ROLES.has(String(n.role?.value ?? '')))
      .map((n) => ({
        role: String(n.role?.value ?? ''),
        name: String(n.name?.value ?? '').trim(),
        disabled: Boolean(n.properties?.find((p) => p.name === 'disabled')?.value?.value),
      }));
  } finally {
    await cdp.detach();
  }
}

/** Controls with no accessible name ("button ''"): should be none. */
export async function unnamedControls(page: Page): Promise<AxControl[]> {
  return (await axControls(page)).filter((c) => c.name === '' && c.role !== 'option');
}

/**
 * Presses Tab until focus comes back round and returns the visible, enabled
 * controls that focus never reached (described by tag, role and name). Radio
 * groups and tab lists are one Tab stop (arrow keys move inside them, as
 * ARIA prescribes), so one member of each reached counts for the group.
 */
// Browser-side code as text: the project's tsconfig has no DOM library.
const TAG_CONTROLS = `(() => {
  const sel = 'button, a[href], input:not([type=hidden]), select, textarea, [role=button], [role=tab], [role=checkbox], [role=switch], [role=slider], [role=treeitem], [role=radio], [contenteditable=true]';
  const lists = Array.from(document.querySelectorAll('[role=tablist]'));
  let i = 0;
  for (const el of Array.from(document.querySelectorAll(sel))) {
    el.removeAttribute('data-tabcheck');
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const visible = r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none' && !el.closest('[hidden],[inert],[aria-hidden=true]');
    const disabled = el.disabled === true || el.getAttribute('aria-disabled') === 'true';
    if (!visible || disabled) continue;
    const role = el.getAttribute('role');
    const group = role === 'tab' ? 'tablist:' + lists.indexOf(el.closest('[role=tablist]'))
      : role === 'treeitem' ? 'tree:' + (el.closest('[role=tree]') ? 1 : 0)
      : (el.type === 'radio' ? 'radio:' + el.name : 'el:' + i);
    el.setAttribute('data-tabcheck', group);
    i++;
  }
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  return i;
})()`;

const ACTIVE_MARK = `(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  const tagged = a.closest('[data-tabcheck]');
  const mark = a.getAttribute('data-tabcheck') || (tagged && tagged.getAttribute('data-tabcheck'));
  return mark || ('untagged:' + a.tagName + ':' + (a.getAttribute('aria-label') || (a.textContent || '').slice(0, 20)));
})()`;

const MISSING = (reached: string[]) => `(() => {
  const got = ${JSON.stringify(reached)};
  const missing = [];
  for (const el of Array.from(document.querySelectorAll('[data-tabcheck]'))) {
    const g = el.getAttribute('data-tabcheck');
    if (!got.includes(g)) missing.push(el.tagName.toLowerCase() + (el.getAttribute('role') ? '[role=' + el.getAttribute('role') + ']' : '') + ' "' + (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '').trim().slice(0, 40) + '"');
  }
  return missing;
})()`;

/**
 * Presses Tab until focus comes back round and returns the visible, enabled
 * controls that focus never reached (described by tag, role and name). Radio
 * groups, tab lists and trees are one Tab stop (arrow keys move inside them,
 * as ARIA prescribes), so one member reached counts for the group.
 */
export async function unreachableByTab(page: Page, maxPresses = 250): Promise<string[]> {
  const total = (await page.evaluate(TAG_CONTROLS)) as number;
  if (total === 0) return [];
  const reached = new Set<string>();
  let first: string | null = null;
  for (let n = 0; n < maxPresses; n++) {
    await page.keyboard.press('Tab');
    const id = (await page.evaluate(ACTIVE_MARK)) as string | null;
    if (id === null) continue;
    if (id === first) break;
    first ??= id;
    reached.add(id);
  }
  return (await page.evaluate(MISSING([...reached]))) as string[];
}
