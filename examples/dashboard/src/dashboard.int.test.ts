/// <reference lib="dom" />
// (DOM types for the functions that run in the page.)
// The dashboard in a real browser: playwright-core driving the machine's Chromium (Debian's
// `chromium`, installed by `npm test`; SEQLINE_CHROMIUM overrides the path) against the whole
// stack in this process, the demo seed, and the dashboard built and served as `npm start` does.
// Two agents in two browser contexts: a ticket created for agent1 over HTTP shows on agent1's
// page within a second and never on agent2's; agent1's page creates a ticket and changes a
// status; agent1 goes offline while tickets change and one is deleted, and comes back to exactly
// the new state; with more tickets than the window holds, the page shows the 50 most recently
// updated, in updated_at DESC order. Every wait has a deadline; nothing sleeps.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { login, ok } from '@seqline/e2e/client';
import { startStack, type Stack } from '@seqline/e2e/stack';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from './build.js';
import { seedDemo } from './seed.js';
import { serveDashboard, type DashboardServer } from './server.js';
import { priorityLabel, TICKETS_LIMIT } from './view.js';

/** Where infra/local/bootstrap.mjs looks too: SEQLINE_CHROMIUM, /usr/bin/chromium, then PATH. */
const CHROMIUM = [process.env['SEQLINE_CHROMIUM'], '/usr/bin/chromium', ...(process.env['PATH'] ?? '').split(':').filter((d) => d !== '').map((d) => join(d, 'chromium'))].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const SCREENSHOT = resolve(import.meta.dirname, '../dist/test-output/dashboard.png');
const PASSWORD = 'demo-agent-pass';

interface Shown {
  readonly id: string;
  readonly title: string;
  readonly priority: string;
  readonly status: string;
  readonly seq: string;
}

let stack: Stack;
let dir: string;
let server: DashboardServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const tokens: Record<string, string> = {};
const pages: Record<string, Page> = {};

beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error("no Chromium: install Debian's chromium package (npm test does) or set SEQLINE_CHROMIUM to a Chromium or Chrome binary");
  stack = await startStack();
  expect(await seedDemo({ url: stack.url, admin: stack.admin, password: PASSWORD })).toEqual(['agent1', 'agent2']);
  expect(await seedDemo({ url: stack.url, admin: stack.admin, password: PASSWORD })).toEqual([]); // idempotent
  dir = await mkdtemp(join(tmpdir(), 'seqline-dashboard-'));
  server = await serveDashboard({ dir: await buildDashboard(dir), gatewayUrl: stack.url, port: 0 });
  // Playwright passes --no-sandbox unless chromiumSandbox is set: needed as root, and in containers.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false });
  for (const agent of ['agent1', 'agent2']) {
    tokens[agent] = await login(stack.url, agent, PASSWORD);
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    contexts.push(context);
    pages[agent] = await signIn(context, agent);
  }
});

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await server?.close();
  await stack?.[Symbol.asyncDispose]();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function signIn(context: BrowserContext, agent: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByTestId('login-user').fill(agent);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="dashboard"][data-live="ready"]').waitFor({ timeout: 10_000 });
  await page.locator('[data-testid="connection"][data-status="open"]').waitFor({ timeout: 10_000 });
  return page;
}

/** The ticket rows the page shows, top to bottom. */
function shown(page: Page): Promise<Shown[]> {
  return page.getByTestId('ticket').evaluateAll((rows) =>
    rows.map((tr) => ({
      id: tr.dataset['id'] ?? '',
      title: tr.querySelector('td.title')?.textContent ?? '',
      priority: tr.querySelector('td.priority')?.textContent ?? '',
      status: tr.querySelector('select')?.value ?? '',
      seq: tr.querySelector('td.seq')?.textContent ?? '',
    })),
  );
}

/**
 * What the page must show: the agent's window as SELECT returns it, most recently updated first,
 * ties broken by id (docs/protocol.md §4.7); with each ticket's updated_at. `limit` rows at most.
 */
async function windowRows(agent: string, limit = TICKETS_LIMIT): Promise<(Shown & { updatedAt: number | null })[]> {
  const sql = `SELECT id, title, priority, status, _seq, updated_at FROM app.tickets ORDER BY updated_at DESC, id ASC LIMIT ${limit}`;
  const [result] = await ok(stack.url, tokens[agent]!, sql);
  return (result!['rows'] as [string, string, number | null, string, string, number | null][]).map(([id, title, priority, status, seq, updatedAt]) => ({ id, title, priority: priorityLabel(priority), status, seq, updatedAt }));
}

async function selected(agent: string): Promise<Shown[]> {
  return (await windowRows(agent)).map(({ updatedAt: _, ...shown }) => shown);
}

const write = async (agent: string, sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>> => (await ok(stack.url, tokens[agent]!, sql, params))[0]!;

describe('the support dashboard in Chromium', () => {
  it('shows each agent their own tickets, newest first; a ticket created for agent1 appears within 1 s and never for agent2', async () => {
    const [a, b] = [pages['agent1']!, pages['agent2']!];
    expect(await shown(a)).toEqual(await selected('agent1'));
    expect(await shown(b)).toEqual(await selected('agent2'));
    expect(await shown(a)).toHaveLength(3);
    // agent2's page records every title it ever shows from now on.
    await b.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { seen: Set<string> }).seen = seen;
      const record = (): void => document.querySelectorAll('td.title').forEach((td) => seen.add(td.textContent ?? ''));
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
      record();
    });

    const started = Date.now();
    const result = await write('agent1', 'INSERT INTO app.tickets (title, priority) VALUES ($1, $2) RETURNING id', ['Created over HTTP for agent1', 1]);
    const id = (result['rows'] as string[][])[0]![0]!;
    await a.locator(`[data-testid="ticket"][data-id="${id}"]`).waitFor({ timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await shown(a))[0]).toMatchObject({ id, title: 'Created over HTTP for agent1', priority: 'urgent', status: 'open' });
    expect(await shown(a)).toEqual(await selected('agent1'));
    expect(await a.getByTestId('last-seq').textContent()).toBe(result['seq']);
  });

  it('creates a ticket from the form and changes a status from its select', async () => {
    const a = pages['agent1']!;
    await a.getByTestId('new-title').fill('Printer on fire');
    await a.getByTestId('new-priority').selectOption({ label: 'high' });
    await a.getByTestId('create').click();
    const row = a.locator('[data-testid="ticket"]', { hasText: 'Printer on fire' });
    await row.waitFor({ timeout: 5000 });
    await expect.poll(() => selected('agent1'), { timeout: 5000 }).toEqual(expect.arrayContaining([expect.objectContaining({ title: 'Printer on fire', priority: 'high', status: 'open' })]));

    const oldest = (await shown(a)).at(-1)!;
    await a.locator(`[data-testid="ticket"][data-id="${oldest.id}"] [data-testid="ticket-status"]`).selectOption('closed');
    await expect.poll(async () => (await shown(a))[0], { timeout: 5000 }).toMatchObject({ id: oldest.id, status: 'closed' });
    expect(await shown(a)).toEqual(await selected('agent1'));
    const [updated] = await ok(stack.url, tokens['agent1']!, 'SELECT updated_at FROM app.tickets WHERE id = $1', [oldest.id]);
    expect((updated!['rows'] as number[][])[0]![0]).toBeGreaterThan((Date.now() - 60_000) * 1000);
  });

  it('goes offline, misses updates and a delete, and shows exactly the new state once back online', async () => {
    const [context, a] = [contexts[0]!, pages['agent1']!];
    await context.setOffline(true);
    await a.locator('[data-testid="connection"][data-status="reconnecting"]').waitFor({ timeout: 5000 });
    const before = await shown(a);
    expect(before.length).toBeGreaterThanOrEqual(4);
    const [first, second, third] = before.slice(-3) as [Shown, Shown, Shown];
    await write('agent1', "UPDATE app.tickets SET status = 'solved', updated_at = NOW() WHERE id = $1", [first.id]);
    await write('agent1', 'UPDATE app.tickets SET title = $1, priority = 4 WHERE id = $2', ['Renamed while agent1 was away', second.id]);
    const deleted = await write('agent1', 'DELETE FROM app.tickets WHERE id = $1', [third.id]);
    expect(await shown(a)).toEqual(before); // offline: nothing arrived

    await context.setOffline(false);
    const now = await selected('agent1');
    expect(now.map((t) => t.id)).not.toContain(third.id);
    await expect.poll(() => shown(a), { timeout: 10_000 }).toEqual(now);
    await a.locator('[data-testid="connection"][data-status="open"]').waitFor({ timeout: 5000 });
    expect(await a.getByTestId('last-seq').textContent()).toBe(deleted['seq']); // the delete was the last change
    expect(await a.getByTestId('ticket-count').textContent()).toBe(String(now.length));

    await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
    await a.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(10_000);
  });

  it(`shows at most ${TICKETS_LIMIT} tickets, the most recently updated first, and pulls the next one in when one leaves`, async () => {
    const a = pages['agent1']!;
    const before = (await selected('agent1')).length;
    const titles = Array.from({ length: TICKETS_LIMIT }, (_, i) => `Bulk ticket ${i}`);
    // One statement per ticket, so each has its own updated_at.
    for (const title of titles) await write('agent1', 'INSERT INTO app.tickets (title, priority, updated_at) VALUES ($1, 3, NOW())', [title]);
    const [count] = await ok(stack.url, tokens['agent1']!, 'SELECT COUNT(*) FROM app.tickets');
    expect(Number((count!['rows'] as unknown[][])[0]![0])).toBe(before + TICKETS_LIMIT);
    await expect.poll(() => shown(a), { timeout: 10_000 }).toEqual(await selected('agent1'));
    const rows = await windowRows('agent1');
    expect(rows).toHaveLength(TICKETS_LIMIT);
    expect(rows.map((r) => r.title)).toEqual(titles.toReversed());
    const times = rows.map((r) => r.updatedAt!);
    expect(times).toEqual(times.toSorted((x, y) => y - x));
    expect(await a.getByTestId('ticket-count').textContent()).toBe(String(TICKETS_LIMIT));

    // The oldest shown ticket's status changes: it moves to the top, nothing leaves.
    const oldest = (await shown(a)).at(-1)!;
    await a.locator(`[data-testid="ticket"][data-id="${oldest.id}"] [data-testid="ticket-status"]`).selectOption('pending');
    await expect.poll(async () => (await shown(a))[0], { timeout: 5000 }).toMatchObject({ id: oldest.id, status: 'pending' });
    expect(await shown(a)).toEqual(await selected('agent1'));
    // Deleting the top ticket pulls the most recent one outside the window in at the bottom.
    const next = (await windowRows('agent1', TICKETS_LIMIT + 1)).at(-1)!.id;
    const deleted = await write('agent1', 'DELETE FROM app.tickets WHERE id = $1', [oldest.id]);
    await expect.poll(async () => (await shown(a)).at(-1)?.id, { timeout: 5000 }).toBe(next);
    // The ticket pulled in carries the _seq of the change that opened its place, not its own version's.
    const now = await shown(a);
    expect(now.at(-1)!.seq).toBe(deleted['seq']);
    const withoutSeq = (tickets: Shown[]): Omit<Shown, 'seq'>[] => tickets.map(({ seq: _, ...rest }) => rest);
    expect(withoutSeq(now)).toEqual(withoutSeq(await selected('agent1')));
    expect(now.slice(0, -1)).toEqual((await selected('agent1')).slice(0, -1));
    expect(now).toHaveLength(TICKETS_LIMIT);
  });

  it('never showed agent2 a ticket of agent1', async () => {
    const b = pages['agent2']!;
    expect(await shown(b)).toEqual(await selected('agent2'));
    const seen = await b.evaluate(() => [...(window as unknown as { seen: Set<string> }).seen]);
    const agent1Only = ['Created over HTTP for agent1', 'Printer on fire', 'Renamed while agent1 was away'];
    expect(seen.filter((t) => agent1Only.includes(t))).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});
