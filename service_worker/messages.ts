// What the pages (UI and core worker) and the service worker say to each other, and the names
// both sides must agree on. Imported by service_worker/ and pwa/src/.

/** The Background Sync tag for HQ job submissions (`reg.sync.register(JOBS_SYNC_TAG)`). */
export const JOBS_SYNC_TAG = 'cairn-jobs';

/** Cache Storage cache and key (relative to the scope) where a shared photo waits for compose. */
export const SHARE_CACHE = 'cairn-share';
export const SHARED_PHOTO_PATH = 'shared/photo';
/** The manifest's share_target action (relative to the scope) and its file field. */
export const SHARE_ACTION_PATH = 'share-target';
export const SHARE_FILE_FIELD = 'photo';

/** A job submission as the sync engine would send it; the service worker replays it as is. */
export interface QueuedSubmission {
  idempotencyKey: string; // also inside the body: the server dedups on it
  url: string; // absolute, e.g. http://127.0.0.1:8787/v1/jobs
  headers: Record<string, string>; // Content-Type and the device's authentication headers
  body: string; // the JSON of POST /v1/jobs (sync/PROTOCOL.md)
}

export type PageToSw =
  // The update banner's "reload": the waiting worker takes over (workbox-window sends this).
  | { type: 'SKIP_WAITING' }
  // Keep a copy of a submission the engine could not send (offline): replayed on 'cairn-jobs'
  // sync when no page is open. The same key again replaces the earlier copy.
  | { type: 'cairn-jobs:queue'; submission: QueuedSubmission }
  // The engine got the server's answer for this key (any 2xx or final 4xx): drop the copy.
  | { type: 'cairn-jobs:settled'; idempotencyKey: string }
  // How many copies wait for replay: answered as { count } on the message's port.
  | { type: 'cairn-jobs:count' };

export type SwToPage =
  // A 'cairn-jobs' sync fired while a page is open: run the core's sync engine now, and answer
  // a SyncAnswer on the message's port.
  | { type: 'cairn-jobs:sync' }
  // A notification about a job was clicked: show that job.
  | { type: 'cairn-open-job'; jobId: number };

/** A page's answer to 'cairn-jobs:sync': false when it has no engine to run (no vault open). */
export interface SyncAnswer {
  engineRuns: boolean;
}
