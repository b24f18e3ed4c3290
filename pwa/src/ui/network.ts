// The online/offline indicator in the header; the core's sync engine hears every change.
import type { App } from './app.js';

export function watchNetwork(app: App, indicator: HTMLElement): void {
  const update = (announce: boolean): void => {
    const online = navigator.onLine;
    indicator.textContent = online ? 'Online' : 'Offline';
    indicator.dataset['online'] = String(online);
    indicator.title = online
      ? 'Connected: HQ exports are sent as they are queued'
      : 'Offline: Cairn keeps working; HQ exports wait until you are back online';
    if (announce)
      app.announce(
        online ? 'Back online.' : 'You are offline. Cairn keeps working on this device.',
      );
    app.core?.call('sync.online', { online }).catch(() => undefined);
  };
  window.addEventListener('online', () => update(true));
  window.addEventListener('offline', () => update(true));
  update(false);
}
