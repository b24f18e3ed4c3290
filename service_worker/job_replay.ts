// The replay queue for HQ job submissions: what the service worker does when a 'cairn-jobs'
// Background Sync fires.
//
// The core's sync engine (in the core worker, over the vault's outbox) owns delivery. This is
// only its fallback for when no page is open:
//   1. Offline, the engine asks the page to post 'cairn-jobs:queue' with the exact request it
//      would send (its idempotency key inside) and registers the 'cairn-jobs' sync tag.
//   2. On 'sync': if a page is open, the service worker posts it 'cairn-jobs:sync' and the engine
//      does the work (it knows backoff, results and the outbox); the copies stay. A page answers
//      whether its engine runs; if none says so within ENGINE_ANSWER_MS (no vault unlocked, a
//      page that is closing or frozen in the background), or none is open, the service worker
//      replays the copies itself, in order. Both delivering the same job is harmless: the
//      server answers a repeated idempotency key with the job it already has.
//   3. A copy is dropped when the server answered it for good (2xx, or a 4xx other than
//      401/408/429; the engine learns the outcome by sending the same key again, which the
//      server answers with the same job) or when the engine says 'cairn-jobs:settled' for its
//      key. A network error, 401, 408, 429 or 5xx keeps it and fails the sync event, so the
//      browser retries later (a 401 is never the job's fault: sync/PROTOCOL.md). See replay().
// Signed requests (device authentication): a copy is replayed as stored, which the server
// accepts within its timestamp window; past that, each attempt must be signed afresh, which
// setReplaySigner() allows once the device key is usable here (e.g. a non-extractable WebCrypto
// key in IndexedDB). Without one, late copies wait for the app's engine.
// The copies live in IndexedDB through workbox-background-sync's Queue, 30 days at most.
import { Queue } from 'workbox-background-sync';
import type { QueuedSubmission, SwToPage, SyncAnswer } from './messages.js';

declare const self: ServiceWorkerGlobalScope;

const RETENTION_MINUTES = 30 * 24 * 60;

const keyOf = (e: { metadata?: object }): string | undefined =>
  (e.metadata as { idempotencyKey?: string } | undefined)?.idempotencyKey;

// forceSyncFallback: the queue registers no sync tag of its own (we use 'cairn-jobs') and calls
// onSync when the service worker starts, which covers browsers without Background Sync.
const queue = new Queue('cairn-jobs', {
  forceSyncFallback: true,
  maxRetentionTime: RETENTION_MINUTES,
  onSync: async ({ queue: q }) => {
    // At start-up only: a failure here waits for the next 'cairn-jobs' sync or start.
    if ((await q.size()) > 0) await runJobsSync().catch(() => undefined);
  },
});

// Every queue operation runs after the one before: messages and syncs arrive concurrently, and
// forget's take-all-then-put-back must not interleave with a push or a replay.
let last: Promise<unknown> = Promise.resolve();
function serial<T>(op: () => Promise<T>): Promise<T> {
  const next = last.then(op);
  last = next.catch(() => undefined);
  return next;
}

/** Prepares each replay attempt (e.g. fresh authentication headers); the default sends the
 * stored request as it is. */
export type ReplaySigner = (request: Request) => Promise<Request>;
let signer: ReplaySigner = async (request) => request;
export function setReplaySigner(s: ReplaySigner): void {
  signer = s;
}

export function keepSubmission(s: QueuedSubmission): Promise<void> {
  return serial(async () => {
    await forget(s.idempotencyKey);
    const request = new Request(s.url, { method: 'POST', headers: s.headers, body: s.body });
    await queue.pushRequest({ request, metadata: { idempotencyKey: s.idempotencyKey } });
  });
}

export function forgetSubmission(idempotencyKey: string): Promise<void> {
  return serial(() => forget(idempotencyKey));
}

export function pendingSubmissions(): Promise<number> {
  return serial(() => queue.size());
}

async function forget(idempotencyKey: string): Promise<void> {
  const kept = [];
  for (let e = await queue.shiftRequest(); e; e = await queue.shiftRequest()) {
    if (keyOf(e) !== idempotencyKey) kept.push(e);
  }
  for (const e of kept) await queue.pushRequest(e);
}

/** What a 'cairn-jobs' sync does: wake an open page's engine, or replay the copies. */
export async function runJobsSync(): Promise<void> {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (pages.length > 0 && (await anEngineRuns(pages))) return;
  await serial(replay);
}

/** How long open pages have to say that their engine runs before the copies are replayed here. */
export const ENGINE_ANSWER_MS = 3000;

/** Asks every open page to run its sync engine; true as soon as one answers that it does. */
function anEngineRuns(pages: readonly Client[]): Promise<boolean> {
  return new Promise((answer) => {
    let waiting = pages.length;
    const timer = setTimeout(() => answer(false), ENGINE_ANSWER_MS);
    const settle = (runs: boolean): void => {
      if (runs || --waiting === 0) {
        clearTimeout(timer);
        answer(runs);
      }
    };
    for (const page of pages) {
      const channel = new MessageChannel();
      channel.port1.onmessage = (e: MessageEvent<SyncAnswer>) => settle(e.data?.engineRuns === true);
      page.postMessage({ type: 'cairn-jobs:sync' } satisfies SwToPage, [channel.port2]);
    }
  });
}

// Each copy is tried once per sync, oldest first. A refusal for now (401, 408, 429, 5xx) moves
// it to the back and the others are still tried; a network error stops the round (the rest
// would fail too). Either fails the sync event, so the browser fires it again later.
async function replay(): Promise<void> {
  let retry = 0;
  for (let n = await queue.size(); n > 0; n--) {
    const e = await queue.shiftRequest();
    if (!e) break;
    let status = 0;
    try {
      status = (await fetch(await signer(e.request.clone()))).status;
    } catch {
      // offline again, or the signer could not sign
    }
    if (status === 0) {
      await queue.unshiftRequest(e);
      throw new Error('job submissions not replayed: offline');
    }
    if (status === 401 || status === 408 || status === 429 || status >= 500) {
      await queue.pushRequest(e);
      retry++;
    }
  }
  if (retry > 0) throw new Error(`${retry} job submissions refused for now; retrying later`);
}
