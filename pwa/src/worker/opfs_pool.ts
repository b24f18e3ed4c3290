// The OPFS half of the vault's host file system (api/host_vfs_web.cc states the contract).
//
// The core's file calls are synchronous, but opening an OPFS file is not: so, like SQLite's
// "opfs-sahpool", the worker opens a pool of slot files with FileSystemSyncAccessHandles up
// front and maps the vault's paths onto them. Each slot file starts with a 4 KiB header naming
// the path it holds (empty: free); its data follows. The map is rebuilt from the headers at
// start, so it survives reloads and browser restarts; topUp() keeps free slots ready between
// requests. A slot's header is flushed before its data is used, so a crash leaves either a free
// slot or a named, possibly short, file — which the vault's own crash safety then handles.
//
// Only one worker can hold the handles (OPFS locks them): a second tab gets a clear error.

export interface HostFs {
  open(path: string, create: boolean): number;
  read(h: number, offset: number, into: Uint8Array): number;
  write(h: number, offset: number, from: Uint8Array): number;
  truncate(h: number, size: number): number;
  size(h: number): number;
  flush(h: number): number;
  close(h: number): number;
  remove(path: string): number;
  exists(path: string): number;
  lastError(): string;
}

const HEADER = 4096;
const MAGIC = 0x544c5343; // "CSLT" little-endian
const MIN_FREE = 8;
const IO = -1;
const NOT_FOUND = -2;
const FULL = -3;

interface Slot {
  name: string;
  handle: FileSystemSyncAccessHandle;
  path: string; // '' when free
}

export class OpfsPool implements HostFs {
  private slots: Slot[] = [];
  private byPath = new Map<string, Slot>();
  private handles = new Map<number, Slot>();
  private nextHandle = 1;
  private error = '';

  private constructor(private readonly dir: FileSystemDirectoryHandle) {}

  /** Opens every slot in OPFS folder `name`. Fails (naming why) if another tab holds them. */
  static async open(name: string): Promise<OpfsPool> {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(name, { create: true });
    const pool = new OpfsPool(dir);
    const names: string[] = [];
    for await (const [n, entry] of (dir as unknown as AsyncIterable<[string, FileSystemHandle]>)) {
      if (entry.kind === 'file' && /^slot-\d+$/.test(n)) names.push(n);
    }
    names.sort();
    for (const n of names) await pool.addSlot(n);
    await pool.topUp();
    return pool;
  }

  /** Makes sure a few free slots exist (call between requests: it is asynchronous). */
  async topUp(): Promise<void> {
    let free = this.slots.filter((s) => !s.path).length;
    while (free < MIN_FREE) {
      await this.addSlot(`slot-${String(this.slots.length).padStart(5, '0')}`);
      free++;
    }
  }

  /** Bytes used by files (headers excluded). */
  usedBytes(): number {
    let n = 0;
    for (const s of this.slots) if (s.path) n += Math.max(0, s.handle.getSize() - HEADER);
    return n;
  }

  /** Frees every slot: the vault and its blobs are gone. */
  wipe(): void {
    for (const s of this.slots) if (s.path) this.release(s);
    this.handles.clear();
  }

  paths(): string[] {
    return [...this.byPath.keys()].sort();
  }

  private async addSlot(name: string): Promise<void> {
    const file = await this.dir.getFileHandle(name, { create: true });
    let handle: FileSystemSyncAccessHandle;
    try {
      handle = await file.createSyncAccessHandle();
    } catch (e) {
      throw new Error(
        `Cairn's storage is in use by another tab or window (${(e as Error).name}): close it and reload`,
      );
    }
    const slot: Slot = { name, handle, path: readHeader(handle) };
    this.slots.push(slot);
    if (slot.path) this.byPath.set(slot.path, slot);
  }

  private fail(code: number, message: string, e?: unknown): number {
    this.error = e ? `${message} (${(e as Error).name}: ${(e as Error).message})` : message;
    if (e && (e as Error).name === 'QuotaExceededError') return FULL;
    return code;
  }

  private slotOf(h: number): Slot | undefined {
    const s = this.handles.get(h);
    if (!s) this.error = `no open file ${h}`;
    return s;
  }

  private release(s: Slot): void {
    this.byPath.delete(s.path);
    s.path = '';
    s.handle.truncate(HEADER);
    s.handle.write(new Uint8Array(HEADER), { at: 0 });
    s.handle.flush();
  }

  open(path: string, create: boolean): number {
    try {
      let s = this.byPath.get(path);
      if (!s) {
        if (!create) return this.fail(NOT_FOUND, `${path} does not exist`);
        s = this.slots.find((x) => !x.path);
        if (!s) return this.fail(FULL, `no free file slot for ${path}`);
        s.handle.truncate(HEADER);
        writeHeader(s.handle, path);
        s.handle.flush();
        s.path = path;
        this.byPath.set(path, s);
      }
      const h = this.nextHandle++;
      this.handles.set(h, s);
      return h;
    } catch (e) {
      return this.fail(IO, `could not open ${path}`, e);
    }
  }

  read(h: number, offset: number, into: Uint8Array): number {
    const s = this.slotOf(h);
    if (!s) return IO;
    try {
      return s.handle.read(into, { at: HEADER + offset });
    } catch (e) {
      return this.fail(IO, `read of ${s.path} failed`, e);
    }
  }

  write(h: number, offset: number, from: Uint8Array): number {
    const s = this.slotOf(h);
    if (!s) return IO;
    try {
      const n = s.handle.write(from, { at: HEADER + offset });
      return n === from.length ? 0 : this.fail(FULL, `short write to ${s.path}: ${n} of ${from.length}`);
    } catch (e) {
      return this.fail(IO, `write to ${s.path} failed`, e);
    }
  }

  truncate(h: number, size: number): number {
    const s = this.slotOf(h);
    if (!s) return IO;
    try {
      s.handle.truncate(HEADER + size);
      return 0;
    } catch (e) {
      return this.fail(IO, `truncate of ${s.path} failed`, e);
    }
  }

  size(h: number): number {
    const s = this.slotOf(h);
    if (!s) return IO;
    try {
      return Math.max(0, s.handle.getSize() - HEADER);
    } catch (e) {
      return this.fail(IO, `size of ${s.path} failed`, e);
    }
  }

  flush(h: number): number {
    const s = this.slotOf(h);
    if (!s) return IO;
    try {
      s.handle.flush();
      return 0;
    } catch (e) {
      return this.fail(IO, `flush of ${s.path} failed`, e);
    }
  }

  close(h: number): number {
    this.handles.delete(h);
    return 0;
  }

  remove(path: string): number {
    const s = this.byPath.get(path);
    if (!s) return 0;
    try {
      for (const [h, x] of this.handles) if (x === s) this.handles.delete(h);
      this.release(s);
      return 0;
    } catch (e) {
      return this.fail(IO, `could not delete ${path}`, e);
    }
  }

  exists(path: string): number {
    return this.byPath.has(path) ? 1 : 0;
  }

  lastError(): string {
    return this.error;
  }
}

function readHeader(handle: FileSystemSyncAccessHandle): string {
  if (handle.getSize() < HEADER) return '';
  const head = new Uint8Array(HEADER);
  handle.read(head, { at: 0 });
  const view = new DataView(head.buffer);
  if (view.getUint32(0, true) !== MAGIC) return '';
  const len = view.getUint32(4, true);
  if (len === 0 || len > HEADER - 8) return '';
  return new TextDecoder().decode(head.subarray(8, 8 + len));
}

function writeHeader(handle: FileSystemSyncAccessHandle, path: string): void {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > HEADER - 8) throw new Error(`path too long: ${path}`);
  const head = new Uint8Array(HEADER);
  const view = new DataView(head.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, bytes.length, true);
  head.set(bytes, 8);
  handle.write(head, { at: 0 });
}
