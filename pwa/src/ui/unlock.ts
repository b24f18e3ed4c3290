// Unlock: the passphrase opens the vault; a wrong one says so clearly and keeps the focus there.
import { CairnError } from '../protocol.js';
import type { App } from './app.js';
import { recoveryFor } from './app.js';
import { errorLine, field, h, screen } from './dom.js';

export function unlockScreen(app: App): HTMLElement {
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const err = errorLine(pass);
  const submit = h('button', { type: 'submit' }, 'Unlock');
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field('Passphrase', pass),
    err.el,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!pass.value) return err.show('Type your passphrase.');
    submit.disabled = true;
    submit.textContent = 'Unlocking…';
    try {
      await app.core!.call('vault.unlock', { passphrase: pass.value });
      pass.value = '';
      app.announce('Vault unlocked.');
      app.setVault('unlocked');
    } catch (error) {
      submit.disabled = false;
      submit.textContent = 'Unlock';
      const code = error instanceof CairnError ? error.code : 'internal';
      if (code === 'wrong_passphrase' || code === 'auth_failed') {
        err.show(
          'That passphrase does not open this vault. Check it (and Caps Lock) and try again.',
        );
        pass.select();
        pass.focus();
      } else if (recoveryFor(code, (error as Error).message, false)) {
        app.recovery = recoveryFor(code, (error as Error).message, false);
        app.go('recovery');
      } else {
        err.show(`Could not unlock: ${(error as Error).message}`);
      }
    }
  });
  return screen(
    'Unlock your vault',
    h(
      'p',
      { class: 'lead' },
      'Your drafts and models are encrypted on this device. Type your passphrase to open them.',
    ),
    form,
  );
}
