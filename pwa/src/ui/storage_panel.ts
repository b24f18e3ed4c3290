// Storage on this device: how much Cairn uses, and whether the browser keeps it (persist()).
import { bytes, percent } from './format.js';
import { h } from './dom.js';

export function storagePanel(announce: (text: string) => void): HTMLElement {
  const usage = h('p', { class: 'usage' }, 'Checking storage…');
  const persisted = h('p', { class: 'persisted' });
  const ask = h('button', { type: 'button', class: 'secondary' }, 'Keep my data on this device');
  const refresh = async (): Promise<void> => {
    if (!navigator.storage?.estimate) {
      usage.textContent = 'This browser does not say how much storage Cairn uses.';
      ask.hidden = true;
      return;
    }
    const { usage: used = 0, quota = 0 } = await navigator.storage.estimate();
    usage.textContent = `Cairn uses ${bytes(used)} of the ${bytes(quota)} this browser allows (${percent(used, quota)}).`;
    const kept = await navigator.storage.persisted();
    persisted.textContent = kept
      ? "Kept: the browser will not clear Cairn's data to free space."
      : "Not yet kept: if the device runs short of space, the browser may clear Cairn's data, drafts included.";
    ask.hidden = kept;
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
    persisted,
    ask,
  );
}
