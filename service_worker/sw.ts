// Cairn's service worker, kept thin: Workbox precaches the app shell, the wasm core and ONNX
// Runtime Web (the list and revisions come from pwa/build.mjs), navigations fall back to the
// precached index.html offline, and the rest is small handlers: the share target, the job replay
// queue for Background Sync, notification clicks, and skipWaiting for the update banner.
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import type { PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';
import { forgetSubmission, keepSubmission, pendingSubmissions, runJobsSync } from './job_replay.js';
import { JOBS_SYNC_TAG, SHARE_ACTION_PATH } from './messages.js';
import type { PageToSw, SwToPage } from './messages.js';
import { handleShare } from './share_target.js';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

// A first install controls the open page at once (so it works offline from its first visit). An
// update waits instead: the banner's Reload sends SKIP_WAITING.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

// The list of model packs: fresh when online, the last one seen when offline.
const modelIndex = new URL('models/index.json', self.registration.scope).href;
registerRoute(
  ({ url }) => url.href === modelIndex,
  new NetworkFirst({ cacheName: 'cairn-model-index', networkTimeoutSeconds: 5 }),
);

const shareAction = new URL(SHARE_ACTION_PATH, self.registration.scope).pathname;
registerRoute(
  ({ url }) => url.pathname === shareAction,
  ({ request }) => handleShare(request),
  'POST',
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const m = event.data as PageToSw;
  switch (m?.type) {
    case 'SKIP_WAITING':
      void self.skipWaiting();
      break;
    case 'cairn-jobs:queue':
      event.waitUntil(keepSubmission(m.submission));
      break;
    case 'cairn-jobs:settled':
      event.waitUntil(forgetSubmission(m.idempotencyKey));
      break;
    case 'cairn-jobs:count':
      event.waitUntil(pendingSubmissions().then((count) => event.ports[0]?.postMessage({ count })));
      break;
  }
});

self.addEventListener('sync', (event: Event) => {
  const e = event as SyncEvent;
  if (e.tag === JOBS_SYNC_TAG) e.waitUntil(runJobsSync());
});

// A job's notification carries {jobId}: focus an open page on that job, else open one there.
self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  const jobId = Number((event.notification.data as { jobId?: number } | null)?.jobId);
  const hash = Number.isInteger(jobId) ? `#/jobs?job=${jobId}` : '#/jobs';
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const page = pages[0];
      if (page) {
        if (Number.isInteger(jobId))
          page.postMessage({ type: 'cairn-open-job', jobId } satisfies SwToPage);
        await page.focus().catch(() => undefined);
        return;
      }
      await self.clients.openWindow(new URL(`./${hash}`, self.registration.scope).href);
    })(),
  );
});
