// The web UI in a real browser (Debian's Chromium, driven by playwright-core)
// against two real daemons on real btrfs: sign in, pair the appliances, add a
// task, run it, watch its live progress, and find the attempt in alpha's Send
// trail and in beta's Receive trail, all through the pages. Then every page is
// photographed at 1280 and 390 px (light, and dark at 1280) into
// test-results/screens/, and checked with axe-core: no serious or critical
// violation.

import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import type { PeerView, StatusView } from '../../src/api/views.js';
import { describeViolations, LAPTOP, launchBrowser, newContext, PHONE, screenshot, seriousViolations } from '../support/browser.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { ferry, ferryJson, ferryOk, freePort } from '../support/cli.js';
import { pairedDaemons, slowLinkToBeta, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const PASSWORD = 'a long web UI password';

function uiOf(state: string): Promise<string> {
  return ferryJson<StatusView>(state, ['status']).then((s) => (s.ui.local ?? '').replace(/\/$/, ''));
}

async function signIn(page: Page, base: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true });
}

/** The page has loaded what it shows: its heading is there and no table is still fetching. */
async function settled(page: Page): Promise<void> {
  await page.locator('h1').first().waitFor();
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' }).catch(() => undefined);
  await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 5_000 }).catch(() => undefined);
}

describe('the web UI in Chromium, against two daemons', () => {
  let pair: PairedDaemons;
  let browser: Browser;
  let proxy: TcpProxy | null = null;
  let alphaUi: string;
  let betaUi: string;
  let alpha: Page;
  let beta: Page;
  const contexts: BrowserContext[] = [];
  const consoleErrors: string[] = [];

  async function page(options: Parameters<typeof newContext>[1] = {}): Promise<Page> {
    const context = await newContext(browser, options);
    contexts.push(context);
    const p = await context.newPage();
    // The first session check of a signed-out page answers 401 on purpose; anything else is a fault.
    p.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
    return p;
  }

  beforeAll(async () => {
    // Alpha also serves the UI on a TLS listener (the LAN's way in), with its self-signed certificate.
    pair = await pairedDaemons({ pair: false, alphaConfig: { ui: { listen: `127.0.0.1:${await freePort()}` } } });
    // Enough data that the run lasts a few seconds over the slow link: long enough to watch.
    await writeFile(path.join(pair.share, 'big.bin'), randomBytes(48 * 1024 * 1024));
    for (const d of [pair.alpha, pair.beta]) {
      const set = await ferry(d.state, ['admin', 'password'], { input: `${PASSWORD}\n` });
      expect(set.code, set.stderr).toBe(0);
    }
    alphaUi = await uiOf(pair.alpha.state);
    betaUi = await uiOf(pair.beta.state);
    browser = await launchBrowser();
    alpha = await page();
    beta = await page();
  }, 120_000);

  // A failed step leaves what each appliance's page showed, next to the other screenshots.
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    const slug = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    for (const [who, p] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      if (p) await screenshot(p, `failed-${slug}-${who}`).catch(() => undefined);
    }
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await proxy?.stop();
    await pair?.close();
  });

  it('refuses a wrong password in place, then signs in', async () => {
    await signIn(alpha, alphaUi, 'not the password at all');
    await expect.poll(() => alpha.getByRole('alert').first().textContent()).toMatch(/WRONG_PASSWORD/);
    await screenshot(alpha, 'login-refused-1280');
    await alpha.getByLabel('Password').fill(PASSWORD);
    await alpha.getByRole('button', { name: 'Sign in' }).click();
    await alpha.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await signIn(beta, betaUi);
    await beta.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  it('refuses a change that lacks the CSRF token, even from the signed-in page', async () => {
    const answer = await alpha.evaluate(async () => {
      const r = await fetch('/api/v1/service', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) });
      return { status: r.status, body: (await r.json()) as { code: string } };
    });
    expect(answer).toEqual({ status: 403, body: expect.objectContaining({ code: 'CSRF_REQUIRED' }) as unknown });
    expect((await ferryJson<StatusView>(pair.alpha.state, ['status'])).service).toBe('enabled');
    // The browser logs the refusal it was meant to get.
    consoleErrors.length = 0;
  });

  it('pairs the appliances through the UI: beta offers a pool and an invite, alpha accepts it after comparing fingerprints', async () => {
    await nav(beta, 'Pools').click();
    await beta.getByRole('button', { name: 'Add pool' }).first().click();
    const poolDialog = beta.getByRole('dialog');
    await poolDialog.getByLabel('Pool name').fill('backup');
    await poolDialog.getByLabel('Path').fill(pair.targetPool.path);
    await poolDialog.getByRole('button', { name: 'Add pool' }).click();
    await beta.getByTestId('pool-backup').waitFor();

    await nav(beta, 'Peers').click();
    await beta.getByRole('button', { name: 'Make invite' }).first().click();
    const invite = await beta.getByTestId('invite').getByLabel('Invite').inputValue();
    expect(invite).toMatch(/^ferry-invite-v1:/);
    const betaStatus = await ferryJson<StatusView>(pair.beta.state, ['status']);
    expect(await beta.getByTestId('invite-fingerprint').textContent()).toBe(betaStatus.fingerprint);
    await screenshot(beta, 'peers-invite-1280');

    await nav(alpha, 'Peers').click();
    await alpha.getByLabel('Invite').last().fill(invite);
    await expect.poll(() => alpha.getByTestId('invite-preview').textContent()).toContain(betaStatus.fingerprint);
    await alpha.getByRole('button', { name: 'Accept invite' }).click();
    await expect.poll(() => alpha.getByTestId('paired-fingerprint').textContent()).toBe(betaStatus.fingerprint);
    await alpha.getByTestId('peer-beta').waitFor();
    const alphaStatus = await ferryJson<StatusView>(pair.alpha.state, ['status']);
    await beta.reload();
    await beta.getByTestId('peer-alpha').waitFor();
    expect(await beta.getByTestId('peer-alpha').textContent()).toContain(alphaStatus.fingerprint);
  });

  it('adds a task, runs it and shows its progress live', async () => {
    proxy = await slowLinkToBeta(pair, 8 * 1024 * 1024);
    await nav(alpha, 'Tasks').click();
    await alpha.getByRole('button', { name: 'Add task' }).first().click();
    const form = alpha.getByRole('dialog');
    await form.getByLabel('Task name').fill('docs');
    await form.getByLabel('Share path').fill(pair.share);
    await form.getByLabel('Peer', { exact: true }).selectOption(pair.betaId);
    await form.getByLabel('Pool on the peer').fill('backup');
    // A field the schemas refuse is named in place, before anything is sent.
    await form.getByText('Retention, retries and pool health').click();
    await form.getByLabel('Snapshots kept here').fill('0');
    await form.getByRole('button', { name: 'Add task' }).click();
    await expect.poll(() => form.textContent()).toMatch(/Snapshots kept here[\s\S]*(at least|>=|too small)/i);
    await form.getByLabel('Snapshots kept here').fill('3');
    await form.getByLabel('Every').fill('1');
    await form.getByLabel('Unit').selectOption({ label: 'days' });
    await form.getByRole('button', { name: 'Add task' }).click();
    await alpha.getByText('Task docs added.').waitFor();
    const row = alpha.getByTestId('task-docs');
    await row.getByRole('button', { name: /Run now/ }).click();

    await nav(alpha, 'Dashboard').click();
    const transfer = alpha.getByTestId('transfer-docs');
    const bar = transfer.getByRole('progressbar', { name: 'docs progress' });
    await bar.waitFor();
    // Moving bytes: the bar reports progress against the estimate while the run is under way.
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    // Then the daemon's rate and ETA, once it has measured them, while still running.
    await expect.poll(() => transfer.textContent(), { timeout: 60_000, interval: 100 }).toMatch(/MiB\/s[\s\S]*ETA/);
    const seenMidway = await transfer.textContent();
    await screenshot(alpha, 'dashboard-live-1280');
    expect(seenMidway).toMatch(/running/i);
    expect(seenMidway).toMatch(/of 4[0-9]\.\d MiB/);
    await expect.poll(() => transfer.textContent(), { timeout: 120_000 }).toMatch(/succeeded/i);
    // Current is no alarm: its row says current, and nothing about being behind.
    const health = alpha.getByTestId('task-health-docs');
    await expect.poll(() => health.textContent(), { timeout: 30_000 }).toMatch(/current/);
    expect(await health.textContent()).not.toMatch(/behind/);
    // The task's page names its peer once, with its id: not "beta (beta)".
    await health.getByRole('link', { name: 'docs' }).click();
    await expect.poll(() => alpha.locator('main').textContent(), { timeout: 30_000 }).toContain(`Peerbeta ${pair.betaId}`);
    expect(await alpha.locator('main').textContent()).not.toContain('beta (beta)');
  });

  it("shows the attempt in alpha's Send trail and in beta's Receive trail", async () => {
    const [sent] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'docs']);
    expect(sent?.status).toBe('succeeded');
    const id = sent?.id ?? '';
    await alpha.goto(`${alphaUi}/tasks/docs`);
    const attempt = alpha.getByTestId(`attempt-${id}`);
    await attempt.waitFor();
    expect(await attempt.textContent()).toMatch(/succeeded/i);
    expect(await attempt.textContent()).toMatch(/full/i);

    await nav(beta, 'Receive').click();
    const received = beta.getByTestId(`attempt-${id}`);
    await received.waitFor();
    expect(await received.textContent()).toMatch(/succeeded/i);
    await beta.getByTestId('replica-alpha-data').waitFor();
  });

  it('gets data back from the pages: a test-failover clone on beta, discarded after confirming; a restore on alpha, followed to its end', async () => {
    await beta.goto(`${betaUi}/receive`);
    await beta.getByTestId('replica-alpha-data').getByRole('button', { name: /^Clone/ }).click();
    const cloneDialog = beta.getByRole('dialog');
    const clonePath = path.join(pair.targetPool.path, 'data-test');
    await cloneDialog.getByLabel('Target path').fill(clonePath);
    await screenshot(beta, 'receive-clone-dialog-1280');
    await cloneDialog.getByRole('button', { name: /^Clone/ }).click();
    await beta.getByText(`Cloned to ${clonePath}.`).waitFor();
    await beta.getByTestId('replica-alpha-data').getByRole('button', { name: /^Discard/ }).click();
    const confirm = beta.getByRole('dialog');
    expect(await confirm.textContent()).toContain(clonePath);
    await confirm.getByRole('button', { name: 'Discard clone' }).click();
    await beta.getByText(`Clone at ${clonePath} discarded.`).waitFor();

    await alpha.goto(`${alphaUi}/receive`);
    await alpha.getByRole('button', { name: 'Restore a share' }).click();
    const restore = alpha.getByTestId('restore-dialog');
    const restoredPath = path.join(pair.sourcePool.path, 'data-restored');
    await restore.getByLabel('Share').fill('data');
    await restore.getByLabel('From peer').selectOption(pair.betaId);
    await restore.getByLabel('Target path').fill(restoredPath);
    await restore.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect.poll(() => restore.textContent(), { timeout: 60_000 }).toContain(`Restored to ${restoredPath}.`);
    await screenshot(alpha, 'receive-restore-done-1280');
    // The restored share is there, with the file the run sent.
    expect((await stat(path.join(restoredPath, 'big.bin'))).size).toBe(48 * 1024 * 1024);
  });

  it('shows what a peer names as text, never as markup', async () => {
    // A share name is the sender's word on the receiver: beta's Receive page shows alpha's names.
    const share = '<img src=x onerror=window.__xss=1>';
    const sharePath = path.join(pair.sourcePool.path, 'markup');
    await new Btrfs().create(sharePath);
    await writeFile(path.join(sharePath, 'note.txt'), 'a share named in markup');
    await ferryOk(pair.alpha.state, ['task', 'add', 'markup', '--share', sharePath, '--as', share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
    const ran = await ferry(pair.alpha.state, ['task', 'run', 'markup', '--wait']);
    expect(ran.code, ran.stderr).toBe(0);
    await beta.goto(`${betaUi}/receive`);
    await settled(beta);
    await expect.poll(() => beta.locator('main').textContent()).toContain(share);
    expect(await beta.locator('main img').count()).toBe(0);
    expect(await beta.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await alpha.goto(`${alphaUi}/tasks`);
    await settled(alpha);
    await expect.poll(() => alpha.locator('main').textContent()).toContain(share);
    expect(await alpha.locator('main img').count()).toBe(0);
    expect(await alpha.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('can be used from the keyboard: a skip link first, a dialog opened with Enter and closed with Escape', async () => {
    await alpha.goto(`${alphaUi}/tasks`);
    await settled(alpha);
    await alpha.keyboard.press('Tab');
    expect(await alpha.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent.trim())).toBe('Skip to content');
    await alpha.getByRole('button', { name: 'Add task' }).first().focus();
    await alpha.keyboard.press('Enter');
    const dialog = alpha.getByRole('dialog');
    await dialog.waitFor();
    // Focus moved into the dialog, on its first field.
    expect(await dialog.getByLabel('Task name').evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    await alpha.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('serves the same UI over TLS, where the Appliance page shows the certificate fingerprint `ferry status` prints', async () => {
    const status = await ferryJson<StatusView>(pair.alpha.state, ['status']);
    const lan = (status.ui.lan ?? '').replace(/\/$/, '');
    expect(lan).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const p = await page({ https: true });
    // A session of the loopback listener is not one of this one: sign in here too.
    await signIn(p, lan);
    await p.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await p.goto(`${lan}/appliance`);
    await settled(p);
    expect(await p.locator('main').textContent()).toContain(status.ui.tlsFingerprint ?? 'no fingerprint');
    const cookies = await p.context().cookies();
    expect(cookies.map((c) => [c.name, c.secure, c.httpOnly, c.sameSite])).toEqual([['__Host-ferry-session', true, true, 'Strict']]);
    await screenshot(p, 'alpha-appliance-tls-1280');
  });

  const pages = [
    ['dashboard', '/'],
    ['tasks', '/tasks'],
    ['send-trail', '/tasks/docs'],
    ['receive', '/receive'],
    ['peers', '/peers'],
    ['pools', '/pools'],
    ['appliance', '/appliance'],
  ] as const;

  it.each([
    ['1280', LAPTOP, false],
    ['390', PHONE, false],
    ['1280-dark', LAPTOP, true],
  ] as const)('photographs every page at %s px; axe finds no serious or critical violation', async (label, viewport, dark) => {
    for (const [who, base] of [
      ['alpha', alphaUi],
      ['beta', betaUi],
    ] as const) {
      const p = await page({ viewport, dark });
      await p.goto(`${base}/login`);
      await p.getByLabel('Password').waitFor();
      if (who === 'alpha') await screenshot(p, `login-${label}`);
      await signIn(p, base);
      await p.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
      for (const [name, url] of pages) {
        // Beta is the receiving side: its Receive, Pools and Peers pages are the ones with something to show.
        if (who === 'beta' && !['receive', 'pools', 'peers'].includes(name)) continue;
        await p.goto(`${base}${url}`);
        await settled(p);
        expect(await p.locator('h1').count(), `${who} ${url}`).toBe(1);
        await screenshot(p, `${who}-${name}-${label}`);
        const violations = await seriousViolations(p);
        expect(violations, `${who} ${url} at ${label}:\n${describeViolations(violations)}`).toEqual([]);
      }
    }
    expect(consoleErrors.join('\n')).toBe('');
  });

  it('keeps a task row to one line of actions: Edit, Restore and Remove behind More, at laptop and phone width', async () => {
    for (const [width, viewport] of [['1280', LAPTOP], ['390', PHONE]] as const) {
      const p = await page({ viewport, dark: false });
      await p.goto(`${alphaUi}/login`);
      await p.getByLabel('Password').waitFor();
      await signIn(p, alphaUi);
      await nav(p, 'Tasks').click();
      const row = p.getByTestId('task-docs');
      const buttons = row.locator('.row-actions .btn');
      await buttons.first().waitFor();
      // Run now, Pause, More: one line (the same top for each).
      const tops = await Promise.all((await buttons.all()).map(async (b) => Math.round((await b.boundingBox())?.y ?? -1)));
      expect(tops).toHaveLength(3);
      expect(new Set(tops).size).toBe(1);
      await row.getByText('More').click();
      await row.getByRole('button', { name: 'Edit task docs' }).waitFor();
      await screenshot(p, `alpha-tasks-more-${width}`);
      await row.getByRole('button', { name: 'Edit task docs' }).click();
      await p.getByRole('dialog').getByRole('heading', { name: 'Edit task docs' }).waitFor();
      // The menu closed behind the dialog.
      expect(await row.locator('details.more-menu').getAttribute('open')).toBeNull();
      await p.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      await p.close();
    }
  });

  it('removes a peer from the Peers page, telling it; marks the task whose peer was removed, on the Dashboard and the Tasks page', async () => {
    const p = await page({ viewport: LAPTOP, dark: false });
    await p.goto(`${alphaUi}/login`);
    await p.getByLabel('Password').waitFor();
    await signIn(p, alphaUi);
    await nav(p, 'Peers').click();
    await p.getByRole('button', { name: 'Remove peer beta' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Remove peer' }).click();
    await expect.poll(() => p.getByRole('status').filter({ hasText: 'Removed beta.' }).textContent(), { timeout: 30_000 }).toMatch(/beta heard of it and removed this appliance too\. Its tasks here were paused: docs, markup\./);
    await screenshot(p, 'alpha-peer-removed-1280');
    // Beta forgot alpha too: neither lists a pair that cannot work.
    expect(await ferryJson<PeerView[]>(pair.beta.state, ['peer', 'list'])).toEqual([]);
    await nav(p, 'Dashboard').click();
    await p.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await expect.poll(() => p.getByTestId('task-health-docs').textContent(), { timeout: 30_000 }).toMatch(/peer not paired/);
    await nav(p, 'Tasks').click();
    await expect.poll(() => p.getByTestId('task-docs').textContent(), { timeout: 30_000 }).toMatch(/not paired/);
    await screenshot(p, 'alpha-tasks-peer-gone-1280');
  });
});
