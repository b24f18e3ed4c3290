// The UI's entry: starts the core worker (through CoreClient), the service worker, the network
// indicator, and shows the screen the vault's state allows (ui/app.ts's gate). Whatever fails at
// start-up ends on the recovery screen with an explanation, never a blank page.
import './trusted_types.js'; // first: the Trusted Types policy the CSP requires
import { CoreClient } from './core_client.js';
import type { CairnError, VaultState } from './protocol.js';
import type { App, Route } from './ui/app.js';
import { gate, recoveryFor, ROUTES, vaultMadeHere } from './ui/app.js';
import { assetsScreen } from './ui/assets.js';
import { composeScreen } from './ui/compose.js';
import { draftsScreen } from './ui/drafts.js';
import { firstRunScreen } from './ui/first_run.js';
import { jobsScreen } from './ui/jobs.js';
import { modelsScreen } from './ui/models.js';
import { watchNetwork } from './ui/network.js';
import { recoveryScreen } from './ui/recovery.js';
import { notifyJobDone, startServiceWorker } from './ui/service_worker.js';
import { unlockScreen } from './ui/unlock.js';

const START_TIMEOUT_MS = 20_000;
const STATUS_MS = 8_000;

const SCREENS: Record<Route, (app: App, params: URLSearchParams) => HTMLElement> = {
  'first-run': firstRunScreen,
  unlock: unlockScreen,
  recovery: recoveryScreen,
  compose: composeScreen,
  drafts: draftsScreen,
  jobs: jobsScreen,
  assets: assetsScreen,
  models: modelsScreen,
};
const TITLES: Record<Route, string> = {
  'first-run': 'Welcome',
  unlock: 'Unlock',
  recovery: 'Recovery',
  compose: 'Compose',
  drafts: 'Drafts',
  jobs: 'HQ exports',
  assets: 'Assets',
  models: 'Models',
};

const el = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const main = el<HTMLElement>('main');
const nav = el<HTMLElement>('nav');
const status = el<HTMLElement>('status');

function parseHash(): { route: Route; params: URLSearchParams } {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const route = (ROUTES as readonly string[]).includes(path) ? (path as Route) : 'compose';
  return { route, params: new URLSearchParams(query) };
}

const app: App = {
  core: null,
  vault: 'unknown',
  recovery: null,
  go(route, params) {
    const q = params ? `?${new URLSearchParams(params)}` : '';
    const hash = `#/${route}${q}`;
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  announce(text) {
    status.textContent = '';
    // A new text node each time, so screen readers announce a repeated message again; the
    // visible line goes away after a while.
    requestAnimationFrame(() => {
      status.textContent = text;
      setTimeout(() => {
        if (status.textContent === text) status.textContent = '';
      }, STATUS_MS);
    });
  },
  setVault(state: VaultState) {
    applyVault(state);
    if (state === 'unlocked' && afterUnlock) {
      location.hash = afterUnlock; // where the creator was going (e.g. a shared photo)
      afterUnlock = '';
      return;
    }
    app.go(gate(app, 'compose'));
  },
};

// The hash asked for before the vault was open, to go back to once it is.
let afterUnlock = '';

function applyVault(state: VaultState): void {
  app.vault = state;
  if (state === 'damaged' && !app.recovery) app.recovery = { kind: 'damaged', detail: '' };
  if (state === 'absent' && vaultMadeHere.get()) app.recovery = { kind: 'evicted' };
}

function render(): void {
  const wanted = parseHash();
  const route = gate(app, wanted.route);
  if (route !== wanted.route && location.hash !== `#/${route}`) {
    if (app.vault !== 'unlocked' && !['first-run', 'unlock', 'recovery'].includes(wanted.route)) {
      afterUnlock = location.hash;
    }
    location.replace(`#/${route}`); // hashchange renders it
    return;
  }
  main.replaceChildren(SCREENS[route](app, wanted.params));
  document.title = `${TITLES[route]} · Cairn`;
  document.body.dataset['screen'] = route;
  nav.hidden = app.vault !== 'unlocked';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${route}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.querySelector<HTMLElement>('h2')?.focus({ preventScroll: true });
}

async function start(): Promise<void> {
  const url = __CAIRN_CORE_WORKER__;
  if (!url) {
    app.recovery = { kind: 'core', detail: 'this build of Cairn has no core worker' };
    return;
  }
  try {
    app.core = new CoreClient(new Worker(url, { type: 'module', name: 'cairn-core' }));
    const state = await Promise.race([
      app.core.call('vault.state', undefined),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no answer in ${START_TIMEOUT_MS / 1000} s`)),
          START_TIMEOUT_MS,
        ),
      ),
    ]);
    applyVault(state);
    if (state === 'locked') await unlockWithDeviceKey(app.core);
  } catch (error) {
    app.recovery = { kind: 'core', detail: (error as Error).message };
  }
}

// A vault made "for this device only" opens at start without asking anything: its key is this
// browser's. If that fails, the recovery screen says why (there is no passphrase to fall back on).
async function unlockWithDeviceKey(core: CoreClient): Promise<void> {
  try {
    const kinds = await core.call('vault.unlockKinds', undefined);
    if (!kinds.deviceKey) return;
    if (!kinds.deviceKeyHere) {
      app.recovery = { kind: 'key-lost', detail: 'this browser holds no device key for the vault' };
      return;
    }
    await core.call('vault.unlock', { deviceKey: true });
    applyVault('unlocked');
  } catch (error) {
    const e = error as CairnError;
    app.recovery = recoveryFor(e.code ?? 'internal', e.message, true) ?? {
      kind: 'damaged',
      detail: e.message,
    };
  }
}

window.addEventListener('hashchange', render);
void start().then(() => {
  startServiceWorker(app, el('update'), el<HTMLButtonElement>('update-reload'));
  watchNetwork(app, el('net'));
  app.core?.onJob((job) => {
    if (job.state === 'done')
      void notifyJobDone(job.id, 'Your HQ export is done. Open Cairn to see it.');
  });
  document.body.dataset['ready'] = 'true';
  render();
});
