// The page's side of the service worker: registration through workbox-window, the update banner
// ("new version — reload"), and the messages between the service worker and the core worker.
import { Workbox } from 'workbox-window';
import { JOBS_SYNC_TAG } from '../../../service_worker/messages.js';
import type { PageToSw, SwToPage, SyncAnswer } from '../../../service_worker/messages.js';
import type { App } from './app.js';

interface SyncManager {
  register(tag: string): Promise<void>;
}

export function startServiceWorker(app: App, banner: HTMLElement, reload: HTMLButtonElement): void {
  if (!('serviceWorker' in navigator)) return;
  const wb = new Workbox('./sw.js');
  // A new version is installed and waiting: offer it; the click tells it to take over, and the
  // page reloads once it controls the page.
  wb.addEventListener('waiting', () => {
    banner.hidden = false;
    app.announce('A new version of Cairn is ready.');
  });
  reload.addEventListener('click', () => {
    reload.disabled = true;
    wb.addEventListener('controlling', () => location.reload());
    wb.messageSkipWaiting();
  });
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<SwToPage>) => {
    if (e.data?.type === 'cairn-jobs:sync') {
      const answer = (engineRuns: boolean): void =>
        e.ports[0]?.postMessage({ engineRuns } satisfies SyncAnswer);
      if (!app.core) answer(false);
      else
        app.core.call('sync.run', undefined).then(
          (r) => answer(r.engineRuns),
          () => answer(false),
        );
    }
    if (e.data?.type === 'cairn-open-job') app.go('jobs', { job: String(e.data.jobId) });
  });
  // The core worker's messages for the service worker (job submission copies for replay).
  app.core?.onServiceWorkerMessage(async (message: PageToSw) => {
    const reg = await navigator.serviceWorker.ready;
    reg.active?.postMessage(message);
    if (message.type === 'cairn-jobs:queue') {
      await (reg as ServiceWorkerRegistration & { sync?: SyncManager }).sync
        ?.register(JOBS_SYNC_TAG)
        .catch(() => undefined);
    }
  });
  void wb.register();
}

/** A job finished while the app is in the background: a notification that opens it. */
export async function notifyJobDone(jobId: number, text: string): Promise<void> {
  if (
    !('Notification' in self) ||
    Notification.permission !== 'granted' ||
    document.visibilityState === 'visible'
  )
    return;
  const reg = await navigator.serviceWorker?.ready;
  await reg?.showNotification('Cairn: HQ export ready', {
    body: text,
    tag: `job-${jobId}`,
    data: { jobId },
  });
}
