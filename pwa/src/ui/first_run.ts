// First run: make the vault, opened by a passphrase or by a key only this browser holds (one or
// the other: the core wraps the vault's key once), and ask the browser to keep Cairn's storage.
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
  // The explanation is the radio's description, not part of its name, so a screen reader says
  // the short choice first.
  const option = (value: string, label: string, hint: string, checked: boolean): HTMLElement =>
    h(
      'div',
      { class: 'choice-block' },
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'radio',
          name: 'unlock-with',
          value,
          checked,
          'aria-describedby': `unlock-${value}-hint`,
        }),
        ` ${label}`,
      ),
      h('p', { class: 'hint', id: `unlock-${value}-hint` }, hint),
    );
  const method = h(
    'fieldset',
    { class: 'unlock-with' },
    h('legend', {}, 'Open the vault with'),
    option(
      'passphrase',
      'A passphrase',
      'You type it to open Cairn; without it nobody can open the vault, this browser included.',
      true,
    ),
    option(
      'device',
      'This device only (no passphrase)',
      'Anyone who can use this browser profile can open it, and clearing site data loses it ' +
        'for good.',
      false,
    ),
    h('p', { class: 'hint' }, 'A vault has one or the other; you choose now.'),
  );
  const passFields = h(
    'div',
    {},
    field(
      'Passphrase',
      pass,
      `At least ${MIN_PASSPHRASE} characters. It opens your vault; Cairn cannot recover it for you.`,
    ),
    field('Passphrase again', again),
  );
  const deviceOnly = (): boolean =>
    method.querySelector<HTMLInputElement>('input[value=device]')!.checked;
  method.addEventListener('change', () => {
    passFields.hidden = deviceOnly();
    err.show('');
  });
  const form = h('form', { class: 'card', novalidate: true }, method, passFields, err.el, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const device = deviceOnly();
    if (!device && pass.value.length < MIN_PASSPHRASE)
      return err.show(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
    if (!device && pass.value !== again.value)
      return err.show('The two passphrases differ. Type the same one twice.');
    err.show('');
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      await app.core!.call(
        'vault.create',
        device ? { deviceKey: true } : { passphrase: pass.value },
      );
      vaultMadeHere.set(true);
      // The vault is what the browser must not clear: ask now, with the storage panel below
      // saying why (Chromium answers without a prompt).
      void navigator.storage?.persist?.().catch(() => false);
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
        'online or not. First, make a vault: everything Cairn keeps is encrypted on this device.',
    ),
    form,
    storagePanel(app.announce),
  );
}
