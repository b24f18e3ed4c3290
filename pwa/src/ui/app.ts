// The app's state the screens share, and which screen a vault state allows.
import type { CoreClient } from '../core_client.js';
import type { VaultState } from '../protocol.js';

export type Route =
  | 'first-run'
  | 'unlock'
  | 'recovery'
  | 'compose'
  | 'drafts'
  | 'jobs'
  | 'assets'
  | 'models';
export const ROUTES: readonly Route[] = [
  'first-run',
  'unlock',
  'recovery',
  'compose',
  'drafts',
  'jobs',
  'assets',
  'models',
];

/** Why the recovery screen is shown. */
export type Recovery =
  | { kind: 'core'; detail: string } // the core worker did not start or answer
  | { kind: 'damaged'; detail: string } // the vault is there but cannot be read
  | { kind: 'evicted' } // a vault was made here, and now there is none
  | { kind: 'key-lost'; detail: string }; // a device-key vault whose key this browser lost

/** The recovery an unlock failure calls for, or null when the unlock screen can say it (a
 * wrong passphrase). A device key that does not open the vault is never the creator's typo. */
export function recoveryFor(code: string, detail: string, deviceKey: boolean): Recovery | null {
  if (code === 'corruption' || code === 'io_error') return { kind: 'damaged', detail };
  if (deviceKey && (code === 'wrong_passphrase' || code === 'auth_failed' || code === 'not_found'))
    return { kind: 'key-lost', detail };
  return null;
}

export interface App {
  core: CoreClient | null;
  vault: VaultState | 'unknown';
  recovery: Recovery | null;
  go(route: Route, params?: Record<string, string>): void;
  /** Says `text` in the polite live region (and shows it in the status line). */
  announce(text: string): void;
  /** The vault state changed (created, unlocked, reset): re-route. */
  setVault(state: VaultState): void;
}

// Set when a vault is created here, cleared when it is reset: a vault that is absent while this
// is set was lost (storage evicted or cleared), which is a recovery, not a first run.
const MADE_HERE = 'cairn.vault-made-here';
export const vaultMadeHere = {
  get: (): boolean => localStorage.getItem(MADE_HERE) === '1',
  set: (on: boolean): void => {
    if (on) localStorage.setItem(MADE_HERE, '1');
    else localStorage.removeItem(MADE_HERE);
  },
};

/** The route to show for `wanted` in the app's current state. */
export function gate(app: App, wanted: Route): Route {
  if (app.recovery) return 'recovery';
  switch (app.vault) {
    case 'unknown':
      return 'recovery';
    case 'absent':
      return 'first-run';
    case 'locked':
      return 'unlock';
    case 'damaged':
      return 'recovery';
    case 'unlocked':
      return wanted === 'first-run' || wanted === 'unlock' || wanted === 'recovery'
        ? 'compose'
        : wanted;
  }
}
