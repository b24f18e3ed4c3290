// The vault's device key: what opens a vault made "for this device only" (no passphrase).
//
// The core wants 32 raw bytes (cairn_vault_*_with_device_key), and a non-extractable WebCrypto
// key can never give its bytes out, so the device key is random and kept only wrapped: encrypted
// with AES-GCM under a non-extractable AES key that crypto.subtle made here. IndexedDB keeps
// both in one record (structured clone stores a CryptoKey object whole, still non-extractable),
// in the same origin storage as the vault, so clearing site data removes them together.
// Unwrapping yields a fresh copy each time; the caller passes it to the core and wipes it.
//
// What it protects against: the wrapped bytes alone (a copy of the profile's files, a backup)
// open nothing without the browser's own key store. What it does not: anyone who can run this
// origin's code in this browser profile can unwrap it — the UI says so.
import { CairnError } from '../protocol.js';

const DB_NAME = 'cairn-device-key';
const STORE = 'keys';
const RECORD = 'vault';
const KEY_BYTES = 32;
const IV_BYTES = 12;

interface Wrapped {
  wrappingKey: CryptoKey; // AES-GCM, extractable false, usages encrypt/decrypt
  iv: Uint8Array<ArrayBuffer>;
  wrapped: ArrayBuffer;
  createdAtMs: number;
}

export class DeviceKeyStore {
  /** `vaultDir` binds the wrapped key to its vault (AES-GCM associated data). */
  constructor(private readonly vaultDir: string) {}

  /** Whether this browser holds a wrapped device key. */
  async has(): Promise<boolean> {
    return (await this.read()) !== undefined;
  }

  /** Makes a new device key, stores it wrapped (replacing any old one) and returns it: the
   * caller hands it to the core, then wipes it (fill(0)). */
  async create(): Promise<Uint8Array> {
    const wrappingKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const key = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const wrapped = await crypto.subtle.encrypt(this.params(iv), wrappingKey, key);
    await this.write({ wrappingKey, iv, wrapped, createdAtMs: Date.now() });
    return key;
  }

  /** The device key, unwrapped (the caller wipes it). not_found if this browser holds none;
   * auth_failed if the record does not decrypt. */
  async unwrap(): Promise<Uint8Array> {
    const rec = await this.read();
    if (!rec) {
      throw new CairnError(
        'not_found',
        "this browser no longer holds the vault's device key (site data was cleared)",
      );
    }
    try {
      const plain = await crypto.subtle.decrypt(this.params(rec.iv), rec.wrappingKey, rec.wrapped);
      return new Uint8Array(plain);
    } catch (e) {
      throw new CairnError(
        'auth_failed',
        `the stored device key does not decrypt (${(e as Error).name}): it was damaged or replaced`,
      );
    }
  }

  async remove(): Promise<void> {
    await this.tx('readwrite', (s) => s.delete(RECORD));
  }

  private params(iv: Uint8Array<ArrayBuffer>): AesGcmParams {
    return {
      name: 'AES-GCM',
      iv,
      additionalData: new TextEncoder().encode(`cairn device key v1 ${this.vaultDir}`),
    };
  }

  private async read(): Promise<Wrapped | undefined> {
    return (await this.tx('readonly', (s) => s.get(RECORD))) as Wrapped | undefined;
  }

  private async write(rec: Wrapped): Promise<void> {
    await this.tx('readwrite', (s) => s.put(rec, RECORD));
  }

  // One request in its own transaction; resolves once the transaction has committed, so a
  // stored key is durable before the vault that needs it is made.
  private async tx(
    mode: IDBTransactionMode,
    body: (s: IDBObjectStore) => IDBRequest,
  ): Promise<unknown> {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const t = db.transaction(STORE, mode, { durability: 'strict' });
        const req = body(t.objectStore(STORE));
        t.oncomplete = () => resolve(req.result);
        t.onerror = () => reject(storageError(t.error));
        t.onabort = () => reject(storageError(t.error));
      });
    } finally {
      db.close();
    }
  }
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(storageError(req.error));
    req.onblocked = () =>
      reject(new CairnError('unavailable', 'the device-key store is blocked by another tab'));
  });
}

function storageError(e: DOMException | null): CairnError {
  const why = `${e?.name ?? 'unknown'} ${e?.message ?? ''}`.trim();
  return new CairnError('io_error', `the device-key store failed: ${why}`);
}
