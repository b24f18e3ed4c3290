// Recovery: whatever went wrong (the core did not start, the vault is damaged, or it is gone),
// say what happened in plain words and what the creator can do. Never a blank app.
import type { App, Recovery } from './app.js';
import { vaultMadeHere } from './app.js';
import { errorLine, field, h, screen } from './dom.js';
import { storagePanel } from './storage_panel.js';

const TEXT: Record<Recovery['kind'], { title: string; what: string; why: string }> = {
  core: {
    title: 'Cairn could not start',
    what: 'The part of Cairn that keeps your vault and runs the models did not start in this browser.',
    why:
      'This can happen after an interrupted update, when the browser blocks storage (private ' +
      'windows often do), or when it lacks a feature Cairn needs. Your data has not been touched.',
  },
  damaged: {
    title: 'Your vault could not be read',
    what: 'Cairn found your vault on this device, but part of it is damaged or was changed outside Cairn.',
    why:
      'Cairn checks every page of the vault before using it and refuses what does not check out, ' +
      'rather than show you wrong data. Trying again helps if the damage came from an interrupted write.',
  },
  evicted: {
    title: 'Your vault is missing',
    what: 'Cairn made a vault on this device before, but it is not there any more.',
    why:
      "Browsers may clear a site's storage when the device runs low on space, or when site data " +
      'is cleared in the settings. Drafts that were only on this device cannot be brought back; ' +
      'HQ exports already sent to the server are still there.',
  },
  'key-lost': {
    title: 'This browser cannot open your vault',
    what:
      'Your vault is opened by a key that only this browser keeps (you chose no passphrase), ' +
      'and that key is gone or no longer fits.',
    why:
      "The key goes with the site's data when it is cleared. Without it the vault cannot be " +
      'decrypted, by Cairn or anyone: that is what keeps it private. You can start a new vault.',
  },
};

export function recoveryScreen(app: App): HTMLElement {
  const r: Recovery = app.recovery ?? { kind: 'core', detail: 'the app state is unknown' };
  const t = TEXT[r.kind];
  const retry = h('button', { type: 'button', onclick: () => location.reload() }, 'Try again');
  const options = h('div', { class: 'actions' }, retry);
  if (r.kind === 'evicted') {
    options.append(
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            vaultMadeHere.set(false);
            app.recovery = null;
            app.setVault('absent');
          },
        },
        'Make a new vault',
      ),
    );
  }
  const canReset = r.kind === 'damaged' || r.kind === 'key-lost';
  const reset = canReset && app.core ? resetPanel(app) : null;
  return screen(
    t.title,
    h('p', { class: 'lead' }, t.what),
    h('p', {}, t.why),
    'detail' in r && r.detail ? h('p', { class: 'detail' }, `Details: ${r.detail}`) : null,
    options,
    reset,
    storagePanel(app.announce),
  );
}

// The last resort for a vault that cannot be opened: delete it and start again, after typing DELETE.
function resetPanel(app: App): HTMLElement {
  const confirm = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const err = errorLine(confirm);
  const button = h(
    'button',
    { type: 'submit', class: 'danger' },
    'Delete the vault and start again',
  );
  const form = h(
    'form',
    { class: 'panel danger-zone' },
    h('h3', {}, 'Start again'),
    h(
      'p',
      {},
      'This deletes the vault Cairn cannot open, with every draft and model in it, from this device.',
    ),
    field('Type DELETE to confirm', confirm),
    err.el,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (confirm.value.trim() !== 'DELETE') return err.show('Type DELETE in capitals to confirm.');
    button.disabled = true;
    try {
      await app.core!.call('vault.reset', undefined);
      vaultMadeHere.set(false);
      app.recovery = null;
      app.announce('The vault was deleted.');
      app.setVault('absent');
    } catch (error) {
      button.disabled = false;
      err.show(`Could not delete the vault: ${(error as Error).message}`);
    }
  });
  return form;
}
