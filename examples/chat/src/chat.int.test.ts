/// <reference lib="dom" />
// (DOM types for the functions that run in the page.)
// The chat in a real browser: playwright-core driving the machine's Chromium (SEQLINE_CHROMIUM
// overrides the path) against the whole stack in this process, the chat's seed and relay, and
// the page built and served as `npm start` does. alice and bob in two browser contexts: a
// message crosses live both ways and never reaches carol; alice goes offline, writes, comes
// back, and bob sees her message exactly once (one successful request carried it); bob reloads
// and his live query resumes from the cursor it stored, missing nothing written meanwhile. A
// screenshot of bob's page is saved to examples/chat/dist/test-output/chat.png.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveDashboard, type DashboardServer } from '@seqline/dashboard';
import { login, ok } from '@seqline/e2e/client';
import { startStack, type Stack } from '@seqline/e2e/stack';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChat } from './build.js';
import { startRelay, type Relay } from './relay.js';
import { MESSAGES_SQL } from './schema.js';
import { RELAY_USER, seedChat } from './seed.js';

const CHROMIUM = [process.env['SEQLINE_CHROMIUM'], '/usr/bin/chromium', ...(process.env['PATH'] ?? '').split(':').filter((d) => d !== '').map((d) => join(d, 'chromium'))].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const SCREENSHOT = resolve(import.meta.dirname, '../dist/test-output/chat.png');
const PASSWORD = 'chat-demo-pass';
const RELAY_PASSWORD = 'chat-relay-pass';

interface Shown {
  readonly id: string;
  readonly author: string;
  readonly body: string;
  readonly state: string;
}

let stack: Stack;
let relay: Relay;
let dir: string;
let server: DashboardServer;
let browser: Browser;
const contexts: Record<string, BrowserContext> = {};
const pages: Record<string, Page> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error("no Chromium: install Debian's chromium package (npm test does) or set SEQLINE_CHROMIUM to a Chromium or Chrome binary");
  stack = await startStack();
  await seedChat({ url: stack.url, admin: stack.admin, password: PASSWORD, relayPassword: RELAY_PASSWORD });
  relay = startRelay({ url: stack.url, auth: { user: RELAY_USER, password: RELAY_PASSWORD }, waitMs: 1000 });
  dir = await mkdtemp(join(tmpdir(), 'seqline-chat-'));
  server = await serveDashboard({ dir: await buildChat(dir), gatewayUrl: stack.url, port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false });
  for (const user of ['alice', 'bob', 'carol']) tokens[user] = await login(stack.url, user, PASSWORD);
  for (const user of ['alice', 'bob']) {
    contexts[user] = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    pages[user] = await contexts[user].newPage();
    await signIn(pages[user], user);
  }
});

afterAll(async () => {
  for (const c of Object.values(contexts)) await c.close();
  await browser?.close();
  await server?.close();
  await relay?.stop();
  await stack?.[Symbol.asyncDispose]();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(server.url);
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="room-view"][data-id="alice-bob"][data-live="ready"]').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid="connection"][data-status="open"]').waitFor({ timeout: 15_000 });
}

function shown(page: Page): Promise<Shown[]> {
  return page.getByTestId('message').evaluateAll((items) =>
    items.map((li) => ({ id: li.dataset['id'] ?? '', author: li.querySelector('.author')?.textContent?.split(' ·')[0] ?? '', body: li.querySelector('.body')?.textContent ?? '', state: li.dataset['state'] ?? '' })),
  );
}

/** The room's messages in `user`'s partition, as SELECT returns them, in delivery order. */
async function stored(user: string, room = 'alice-bob'): Promise<Shown[]> {
  const [result] = await ok(stack.url, tokens[user]!, 'SELECT id, author, body FROM chat.messages WHERE room_id = $1 ORDER BY _seq', [room]);
  return (result!['rows'] as string[][]).map(([id, author, body]) => ({ id: id!, author: author!, body: body!, state: 'delivered' }));
}

async function send(page: Page, body: string): Promise<void> {
  await page.getByTestId('composer-input').fill(body);
  await page.getByTestId('composer-send').click();
}

describe('the chat in Chromium', () => {
  it('carries messages live both ways between alice and bob, and never to carol', async () => {
    const [a, b] = [pages['alice']!, pages['bob']!];
    await send(a, 'hello bob');
    await expect.poll(() => shown(b), { timeout: 10_000 }).toEqual([expect.objectContaining({ author: 'alice', body: 'hello bob', state: 'delivered' })]);
    await send(b, 'hi alice');
    await expect
      .poll(async () => (await shown(a)).map((m) => [m.author, m.body, m.state]), { timeout: 10_000 })
      .toEqual([
        ['alice', 'hello bob', 'delivered'],
        ['bob', 'hi alice', 'delivered'],
      ]);
    // Bob's own message turns delivered in his view when the relay's copy reaches his partition,
    // which may be after alice's copy: his view is awaited too, not read once.
    await expect
      .poll(async () => (await shown(b)).map((m) => [m.author, m.body, m.state]), { timeout: 10_000 })
      .toEqual([
        ['alice', 'hello bob', 'delivered'],
        ['bob', 'hi alice', 'delivered'],
      ]);
    expect(await shown(a)).toEqual(await stored('alice'));
    expect(await shown(b)).toEqual(await stored('bob'));
    expect(await stored('alice')).toEqual(await stored('bob'));
    const [carol] = await ok(stack.url, tokens['carol']!, 'SELECT COUNT(*) FROM chat.messages');
    expect(carol!['rows']).toEqual([['0']]);
  });

  it('shows a banner offline, and sends what alice wrote offline once she is back: bob sees it exactly once', async () => {
    const [a, b] = [pages['alice']!, pages['bob']!];
    const body = 'written while offline';
    const carried: string[] = [];
    a.on('requestfinished', (request) => {
      if (request.url().endsWith('/v1/api/sql') && (request.postData() ?? '').includes(body)) carried.push(request.url());
    });
    await contexts['alice']!.setOffline(true);
    await a.getByTestId('offline-banner').waitFor({ timeout: 10_000 });
    await send(a, body);
    await expect.poll(async () => (await shown(a)).at(-1), { timeout: 5000 }).toEqual(expect.objectContaining({ body, state: 'queued' }));
    expect((await stored('alice')).map((m) => m.body)).not.toContain(body);
    expect(carried).toEqual([]);

    await contexts['alice']!.setOffline(false);
    await a.getByTestId('offline-banner').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(async () => (await shown(b)).filter((m) => m.body === body).length, { timeout: 15_000 }).toBe(1);
    await expect.poll(async () => (await shown(a)).at(-1), { timeout: 15_000 }).toEqual(expect.objectContaining({ author: 'alice', body, state: 'delivered' }));
    expect(await shown(b)).toEqual(await stored('bob'));
    expect((await stored('bob')).filter((m) => m.body === body)).toHaveLength(1);
    const [outbox] = await ok(stack.url, tokens['alice']!, 'SELECT COUNT(*) FROM chat.outbox WHERE body = $1', [body]);
    expect(outbox!['rows']).toEqual([['1']]);
    expect(carried).toHaveLength(1); // one request reached the gateway with it
  });

  it('resumes bob after a reload from the cursor he stored, with what was written meanwhile, once', async () => {
    const [a, b] = [pages['alice']!, pages['bob']!];
    const cursor = await b.getByTestId('last-seq').textContent();
    expect(cursor).toMatch(/^\d+$/);
    // The client stores a live query's rows and cursor shortly after a change: wait for it (under
    // the page's prefix; the client may add its own per-user prefix).
    await expect
      .poll(() => b.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('seqline-chat:bob:') && k.includes('live:SELECT id, author, body FROM chat.messages')).map((k) => (JSON.parse(localStorage.getItem(k)!) as { cursor?: { $bigint: string } }).cursor?.$bigint)), { timeout: 5000 })
      .toEqual([cursor]);
    const before = await shown(b);
    const frames: string[] = [];
    b.on('websocket', (ws) => ws.on('framesent', (frame) => void (typeof frame.payload === 'string' && frames.push(frame.payload))));

    await b.reload();
    await send(a, 'sent while bob reloaded');
    await signIn(b, 'bob');
    const subscribes = frames.map((f) => JSON.parse(f) as { type: string; subscription?: { sql: string; options?: { from?: string } } }).filter((m) => m.type === 'subscribe' && m.subscription?.sql === MESSAGES_SQL);
    expect(subscribes.map((m) => m.subscription?.options)).toEqual([{ from: cursor }]);
    await expect.poll(() => shown(b), { timeout: 10_000 }).toEqual([...before, expect.objectContaining({ author: 'alice', body: 'sent while bob reloaded', state: 'delivered' })]);
    expect(await shown(b)).toEqual(await stored('bob'));

    await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
    await b.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });
});
