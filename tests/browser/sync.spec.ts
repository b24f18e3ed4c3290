// Background Sync of HQ job submissions (service_worker/job_replay.ts): with a page open whose
// engine runs, the 'cairn-jobs' sync wakes that engine; with none open, or none that answers
// that its engine runs, the service worker replays the copies it keeps, with their idempotency
// keys, until the server has them.
// The copies are signed requests (sync/PROTOCOL.md, Authentication) of a test device whose key
// cairn-cli holds ($CAIRN_CLI_BIN, set by ./cairn browser): a stored signed request replayed
// verbatim within the server's 5-minute window is accepted.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { createVault } from './app_steps';
import { controlled, dispatchSync, expect, test } from './fixtures';
import { APP_DIR, startServer } from './server';

function cli(args: string[], input?: string): string {
  const bin = process.env['CAIRN_CLI_BIN'];
  if (!bin) throw new Error('CAIRN_CLI_BIN is not set: run through ./cairn browser');
  const r = spawnSync(bin, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`cairn-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A device key held by cairn-cli, registered with each server it is used on. */
class Device {
  readonly key = join(fs.mkdtempSync(join(os.tmpdir(), 'cairn-device-')), 'device.json');
  constructor() {
    cli(['device', 'keygen', this.key]);
  }
  headers(method: string, target: string, body: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of cli(['device', 'sign', this.key, method, target, '--body-file', '-'], body)
      .split('\n')
      .filter(Boolean)) {
      const i = line.indexOf(': ');
      out[line.slice(0, i)] = line.slice(i + 2);
    }
    return out;
  }
  async register(base: string): Promise<void> {
    const body = cli(['device', 'register', this.key]).trim();
    const res = await fetch(`${base}/v1/devices`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.headers('POST', '/v1/devices', body) },
      body,
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`registration: ${res.status}`);
  }
}

const device = new Device();

function submission(base: string, key: string, body?: string) {
  const text =
    body ??
    JSON.stringify({ v: 1, idempotency_key: key, kind: 'caption-hq', preset: 'final', payload: { caption: key } });
  return {
    idempotencyKey: key,
    url: `${base}/v1/jobs`,
    headers: { 'Content-Type': 'application/json', ...device.headers('POST', '/v1/jobs', text) },
    body: text,
  };
}

async function toServiceWorker(page: Page, message: unknown): Promise<unknown> {
  return page.evaluate(async (m) => {
    const reg = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const answer = new Promise((ok) => {
      channel.port1.onmessage = (e) => ok(e.data);
      setTimeout(() => ok(null), 100);
    });
    reg.active!.postMessage(m, [channel.port2]);
    return answer;
  }, message);
}

async function pending(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const answer = new Promise<number>((ok) => {
      channel.port1.onmessage = (e) => ok(e.data.count);
    });
    reg.active!.postMessage({ type: 'cairn-jobs:count' }, [channel.port2]);
    return answer;
  });
}

async function serverJobs(base: string): Promise<string[]> {
  const target = '/v1/jobs?since=0&limit=100';
  const res = await fetch(`${base}${target}`, { headers: device.headers('GET', target, '') });
  const feed = (await res.json()) as { jobs: { idempotency_key: string }[] };
  return feed.jobs.map((j) => j.idempotency_key).sort();
}

test('with the app open and unlocked, a cairn-jobs sync wakes its engine and leaves the copies', async ({
  page,
  serverUrl,
}) => {
  await device.register(serverUrl);
  await createVault(page); // the vault open: its sync engine runs
  await toServiceWorker(page, {
    type: 'cairn-jobs:queue',
    submission: submission(serverUrl, 'open-page-key-0001'),
  });
  await expect.poll(() => pending(page)).toBe(1);
  await page.evaluate(() => {
    (window as unknown as { got: string[] }).got = [];
    navigator.serviceWorker.addEventListener('message', (e) =>
      (window as unknown as { got: string[] }).got.push(e.data.type),
    );
  });
  await dispatchSync(page, serverUrl, 'cairn-jobs');
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { got: string[] }).got))
    .toEqual(['cairn-jobs:sync']);
  expect(await pending(page)).toBe(1); // the engine delivers; the service worker did not replay
  await toServiceWorker(page, { type: 'cairn-jobs:settled', idempotencyKey: 'open-page-key-0001' });
  await expect.poll(() => pending(page)).toBe(0);
  expect(await serverJobs(serverUrl)).toEqual([]);
});

test('with the app open but no engine running (no vault yet), the service worker replays', async ({
  page,
  serverUrl,
}) => {
  await device.register(serverUrl);
  await page.goto('/');
  await controlled(page);
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'first-run');
  await toServiceWorker(page, {
    type: 'cairn-jobs:queue',
    submission: submission(serverUrl, 'no-engine-key-0001'),
  });
  await expect.poll(() => pending(page)).toBe(1);
  await dispatchSync(page, serverUrl, 'cairn-jobs');
  await expect.poll(() => serverJobs(serverUrl)).toContain('no-engine-key-0001');
  await expect.poll(() => pending(page)).toBe(0);
});

test('with no page open, the copies are replayed with their keys once the server is back', async ({
  page,
}) => {
  const models = fs.mkdtempSync(join(os.tmpdir(), 'cairn-models-'));
  const data = fs.mkdtempSync(join(os.tmpdir(), 'cairn-data-'));
  let server = await startServer({ app: APP_DIR, models, dataDir: data });
  const base = server.url;
  try {
    await device.register(base);
    await page.goto(`${base}/`);
    await controlled(page);
    // Three copies, two of them for the same job: the later one replaces the earlier.
    for (const key of ['replay-key-0000001', 'replay-key-0000002', 'replay-key-0000001']) {
      await toServiceWorker(page, { type: 'cairn-jobs:queue', submission: submission(base, key) });
    }
    await expect.poll(() => pending(page)).toBe(2);

    // The server is unreachable: the replay fails and keeps both copies.
    await server.stop();
    await page.goto('about:blank');
    await dispatchSync(page, base, 'cairn-jobs');
    await page.waitForTimeout(1000);
    await page.goto(`${base}/`); // the precached shell, served by the service worker
    expect(await pending(page)).toBe(2);

    // The server is back on the same port and data: the sync delivers both, once each.
    server = await startServer({
      app: APP_DIR,
      models,
      dataDir: data,
      port: Number(new URL(base).port),
    });
    await page.goto('about:blank');
    await dispatchSync(page, base, 'cairn-jobs');
    await expect.poll(() => serverJobs(base)).toEqual(['replay-key-0000001', 'replay-key-0000002']);
    await page.goto(`${base}/`);
    expect(await pending(page)).toBe(0);
  } finally {
    await server.stop();
    fs.rmSync(models, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test('the replay keeps a copy refused for now (401) and drops one refused for good (400)', async ({
  page,
  serverUrl,
}) => {
  await device.register(serverUrl);
  await page.goto('/');
  await controlled(page);
  const unauthenticated = {
    ...submission(serverUrl, 'no-device-key-0001'),
    headers: { 'Content-Type': 'application/json' },
  };
  const malformed = submission(serverUrl, 'bad-body-key-00001', '{"v":1,');
  for (const s of [unauthenticated, malformed])
    await toServiceWorker(page, { type: 'cairn-jobs:queue', submission: s });
  await expect.poll(() => pending(page)).toBe(2);
  await page.goto('about:blank');
  await dispatchSync(page, serverUrl, 'cairn-jobs');
  await page.goto('/');
  await expect.poll(() => pending(page)).toBe(1);
  await toServiceWorker(page, { type: 'cairn-jobs:settled', idempotencyKey: 'no-device-key-0001' });
  await expect.poll(() => pending(page)).toBe(0);
});
