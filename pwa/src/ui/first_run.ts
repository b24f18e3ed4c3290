// First run: make the vault (a passphrase), and ask the browser to keep Cairn's storage.
import { CairnError } from '../protocol.js';
import type { App } from './app.js';
import { vaultMadeHere } from './app.js';
import { errorLine, field, h, screen } from './dom.js';
import { storagePanel } from './storage_panel.js';

export const MIN_PASSPHRASE = 8;

export function firstRunScreen(app: App): HTMLElement {
  const pass = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: MIN_PASSPHRASE,
  });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const err = errorLine(pass);
  const submit = h('button', { type: 'submit' }, 'Create vault');
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field(
      'Passphrase',
      pass,
      `At least ${MIN_PASSPHRASE} characters. It opens your vault; Cairn cannot recover it for you.`,
    ),
    field('Passphrase again', again),
    err.el,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (pass.value.length < MIN_PASSPHRASE)
      return err.show(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    if (pass.value !== again.value)
      return err.show('The two passphrases differ. Type the same one twice.');
    err.show('');
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      await app.core!.call('vault.create', { passphrase: pass.value });
      vaultMadeHere.set(true);
      pass.value = again.value = '';
      app.announce('Vault created.');
      app.setVault('unlocked');
    } catch (error) {
      err.show(
        error instanceof CairnError
          ? `Could not create the vault: ${error.message}`
          : String(error),
      );
      submit.disabled = false;
      submit.textContent = 'Create vault';
    }
  });
  return screen(
    'Welcome to Cairn',
    h(
      'p',
      { class: 'lead' },
      'Cairn drafts captions and hashtags for your photos on this device, ' +
        'online or not. First, make a vault: everything Cairn keeps is encrypted with your passphrase.',
    ),
    form,
    storagePanel(app.announce),
  );
}
