// The typed facade over the wasm core's C ABI (api/cairn_api.h): strings in and out, handles,
// and every non-OK status turned into a CairnError with the code's stable name (generated from
// the C header, never copied by hand).
import createCairnCore from '../../../build/wasm-release/api/cairn_web.mjs';
import type { CairnModule } from '../../../build/wasm-release/api/cairn_web.mjs';
import { ABI_VERSION, STATUS_NAMES } from '../../../build/wasm-release/api/cairn_abi.js';
import { CairnError } from '../protocol.js';
import type { HostFs } from './opfs_pool.js';

export type Handle = number & { readonly __handle: unique symbol };

export class Core {
  private constructor(readonly m: CairnModule) {}

  static async load(hostFs: HostFs): Promise<Core> {
    const m = await createCairnCore({ cairnHostFs: hostFs });
    const core = new Core(m);
    const abi = core.fn('abi_version')();
    if (abi !== ABI_VERSION) {
      throw new CairnError('unsupported', `the wasm core speaks ABI ${abi}, this app ${ABI_VERSION}`);
    }
    return core;
  }

  fn(name: string): (...args: number[]) => number {
    const f = this.m[`_cairn_${name}`];
    if (!f) throw new CairnError('internal', `the wasm core has no cairn_${name}`);
    return f;
  }

  /** Throws the core's last error if `rc` is not OK. */
  check(rc: number): void {
    if (rc === 0) return;
    const message = this.m.UTF8ToString(this.fn('last_error_message')());
    const name = STATUS_NAMES[rc];
    throw new CairnError(name && name !== 'ok' ? name : 'internal', message);
  }

  /** Runs `body` with NUL-terminated copies of `strings` in wasm memory, then frees them. */
  withStrings<T>(strings: string[], body: (ptrs: number[]) => T): T {
    const ptrs = strings.map((s) => this.m.stringToNewUTF8(s));
    try {
      return body(ptrs);
    } finally {
      for (const p of ptrs) this.fn('free')(p);
    }
  }

  /** Runs `body` with a copy of `bytes` in wasm memory. */
  withBytes<T>(bytes: Uint8Array, body: (ptr: number) => T): T {
    const p = this.fn('malloc')(Math.max(1, bytes.length));
    if (!p) throw new CairnError('resource_exhausted', 'out of wasm memory');
    try {
      this.m.HEAPU8.set(bytes, p);
      return body(p);
    } finally {
      this.fn('free')(p);
    }
  }

  /** Like withBytes for a secret: the wasm copy is zeroed before it is freed (the caller wipes
   * its own). */
  withSecret<T>(secret: Uint8Array, body: (ptr: number) => T): T {
    return this.withBytes(secret, (p) => {
      try {
        return body(p);
      } finally {
        this.m.HEAPU8.fill(0, p, p + secret.length);
      }
    });
  }

  /** Calls `name(...args, &out)`, checks the status and returns the out pointer's value. */
  out(name: string, ...args: number[]): number {
    const slot = this.fn('malloc')(8);
    try {
      this.m.HEAP32[slot >> 2] = 0;
      this.check(this.fn(name)(...args, slot));
      return this.m.HEAP32[slot >> 2]!;
    } finally {
      this.fn('free')(slot);
    }
  }

  /** Calls `name(...args, &char*)` and parses the returned JSON (freeing it). */
  json<T>(name: string, ...args: number[]): T {
    return JSON.parse(this.takeString(this.out(name, ...args))) as T;
  }

  /** Calls `name(...args, &uint8_t*, &size_t)` and returns a copy of the bytes (freeing them). */
  bytes(name: string, ...args: number[]): Uint8Array<ArrayBuffer> {
    const slot = this.fn('malloc')(8);
    try {
      this.m.HEAP32[slot >> 2] = 0;
      this.m.HEAP32[(slot + 4) >> 2] = 0;
      this.check(this.fn(name)(...args, slot, slot + 4));
      const p = this.m.HEAP32[slot >> 2]!;
      const size = this.m.HEAP32[(slot + 4) >> 2]! >>> 0;
      const out = this.m.HEAPU8.slice(p, p + size);
      this.fn('free')(p);
      return out;
    } finally {
      this.fn('free')(slot);
    }
  }

  takeString(p: number): string {
    try {
      return this.m.UTF8ToString(p);
    } finally {
      this.fn('free')(p);
    }
  }
}
