// Storage on this device: how much Cairn uses, how much of it is the vault, and whether the
// browser keeps it (persist()). With the core worker's storage.info the vault's own bytes are
// shown too; without it (the recovery screen, first run) the page asks the browser directly.
import type { StorageInfo } from '../protocol.js';
import { bytes, percent } from './format.js';
import { h } from './dom.js';

/** Where the numbers come from: the core worker when it runs, else the page itself. */
export type StorageSource = () => Promise<StorageInfo | Omit<StorageInfo, 'vaultBytes'>>;

async function fromPage(): Promise<Omit<StorageInfo, 'vaultBytes'>> {
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return { usageBytes: usage, quotaBytes: quota, persisted: await navigator.storage.persisted() };
}

export function storagePanel(
  announce: (text: string) => void,
  source: StorageSource = fromPage,
): HTMLElement {
  const usage = h('p', { class: 'usage' }, 'Checking storage…');
  const vault = h('p', { class: 'vault-bytes', hidden: true });
  const persisted = h('p', { class: 'persisted' });
  const ask = h('button', { type: 'button', class: 'secondary' }, 'Keep my data on this device');
  const refresh = async (): Promise<void> => {
    if (!navigator.storage?.estimate) {
      usage.textContent = 'This browser does not say how much storage Cairn uses.';
      ask.hidden = true;
      return;
    }
    let info: Awaited<ReturnType<StorageSource>>;
    try {
      info = await source();
    } catch {
      info = await fromPage(); // the page's own numbers still say what matters
    }
    const { usageBytes: used, quotaBytes: quota } = info;
    usage.textContent = `Cairn uses ${bytes(used)} of the ${bytes(quota)} this browser allows (${percent(used, quota)}).`;
    if ('vaultBytes' in info) {
      vault.textContent =
        `Your vault (drafts, photos and models, encrypted): ${bytes(info.vaultBytes)}.`;
      vault.hidden = false;
    }
    persisted.textContent = info.persisted
      ? "Kept: the browser will not clear Cairn's data to free space."
      : "Not yet kept: if the device runs short of space, the browser may clear Cairn's data, drafts included.";
    ask.hidden = info.persisted;
  };
  ask.addEventListener('click', async () => {
    const granted = await navigator.storage.persist();
    announce(
      granted
        ? "The browser will keep Cairn's data."
        : "The browser did not agree to keep Cairn's data; installing Cairn usually helps.",
    );
    await refresh();
  });
  void refresh();
  return h(
    'div',
    { class: 'panel storage' },
    h('h3', {}, 'Storage'),
    h(
      'p',
      {},
      'Your drafts, photos and models stay on this device, encrypted. Ask the browser to ' +
        'keep them, so it never clears them to free space.',
    ),
    usage,
    vault,
    persisted,
    ask,
  );
}
