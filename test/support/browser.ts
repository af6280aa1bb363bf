// A real browser for the web UI's tests: Debian's Chromium driven by
// playwright-core (no browser download), headless, one context per appliance
// and viewport. Screenshots go to test-results/screens/ so that a person can
// look at every page after the run; the accessibility check is axe-core run
// inside the page.

import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const SCREENS = path.resolve(import.meta.dirname, '../../test-results/screens');

export const LAPTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Debian's chromium package; CHROMIUM overrides it. */
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // --no-sandbox: the tests run as root; nothing here reaches beyond 127.0.0.1.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

export async function newContext(browser: Browser, options: { viewport?: { width: number; height: number }; dark?: boolean; https?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({
    viewport: options.viewport ?? LAPTOP,
    colorScheme: options.dark ? 'dark' : 'light',
    ignoreHTTPSErrors: options.https === true,
    reducedMotion: 'reduce',
  });
}

/** Saves a full-page screenshot as test-results/screens/NAME.png and answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENS, { recursive: true });
  const file = path.join(SCREENS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string | undefined }[];
}

let axeSource: string | null = null;

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG
 * 2.x A and AA rules). The script is evaluated through the debugging protocol,
 * which the page's Content-Security-Policy does not govern, so the policy
 * under test stays exactly as the daemon sends it.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** One line per violation, for an assertion message a person can act on. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}
