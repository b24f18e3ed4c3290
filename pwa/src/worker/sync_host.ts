// The host of the core's sync engine in the worker: it feeds the engine events (start, online,
// offline, timer ticks, each response) and carries out what comes back — signed requests sent
// with fetch, the one timer, notices for the UI. The engine commits every state to the vault's
// outbox before its instructions reach here, so a killed worker resumes from the vault.
// Image exports: a send with `body_blob` is the upload of the export's source photo, whose bytes
// come out of the vault here (cairn_blob_read), already signed over by the core; every response
// goes back as bytes (cairn_sync_respond), so a rendition (an image) never crosses as text, and
// the core checks each against its BLAKE2b-256 and saves it in the vault ("rendition_saved").
// An HQ caption's result is checked and saved as a caption-hq asset the same way
// ("caption_saved").
import type { PageToSw } from '../../../service_worker/messages.js';
import type { Job } from '../protocol.js';
import type { Core } from './core.js';

interface Instruction {
  type: 'send' | 'wake_at' | 'notify' | 'rendition_saved' | 'caption_saved';
  request_id?: number;
  method?: string;
  target?: string;
  headers?: Record<string, string>;
  body?: string;
  body_blob?: string;
  at_ms?: number;
  job_id?: number;
  kind?: string;
  message?: string;
}

/** Runs `task` in the worker's one queue (vault calls never interleave). */
export type Serial = (task: () => Promise<void> | void) => void;

export class SyncHost {
  private handle = 0;
  private vault = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly core: Core,
    private readonly serial: Serial,
    private readonly onNotice: (jobId: number, kind: string, message: string) => void,
    private readonly jobs: () => Job[],
    private readonly onJobs: (jobs: Job[]) => void,
    // For the service worker (through the page): a submission that could not be sent is kept
    // there for Background Sync replay; one the server answered is dropped from it.
    private readonly toSw: (message: PageToSw) => void,
  ) {}

  /** Opens the engine over an unlocked vault and starts it. */
  async start(vault: number, online: boolean): Promise<void> {
    this.stop();
    const seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
    this.vault = vault;
    this.handle = this.core.out('sync_open', vault, seed);
    if (online) await this.register();
    this.event({ type: 'app_start', online });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.handle) this.core.fn('sync_close')(this.handle);
    this.handle = 0;
  }

  get running(): boolean {
    return this.handle !== 0;
  }

  /** Registers the device key with the server (idempotent); offline it is simply retried at
   * the next start or `online`. */
  async register(): Promise<void> {
    if (!this.handle) return;
    const req = this.core.json<Instruction>('sync_register_request', this.handle, Date.now());
    try {
      await fetch(req.target!, { method: req.method!, headers: req.headers!, body: req.body! });
    } catch {
      // offline: the job requests will wait and retry
    }
  }

  /** Feeds one event (JSON as cairn_sync_handle takes it) and carries out the instructions. */
  event(e: Record<string, unknown>): void {
    if (!this.handle) return;
    const body = JSON.stringify(e);
    this.carryOut(this.core.withStrings([body], ([b]) =>
      this.core.json<Instruction[]>('sync_handle', this.handle, Date.now(), b!),
    ));
  }

  /** Feeds one response, its body as bytes (cairn_sync_respond). */
  private respond(requestId: number, status: number, headers: Record<string, string>, body: Uint8Array): void {
    if (!this.handle) return;
    const head = JSON.stringify({ request_id: requestId, status, headers });
    this.carryOut(this.core.withStrings([head], ([h]) =>
      this.core.withBytes(body, (p) =>
        this.core.json<Instruction[]>('sync_respond', this.handle, Date.now(), h!, p, body.length),
      ),
    ));
  }

  private carryOut(out: Instruction[]): void {
    let changed = false;
    for (const i of out) {
      if (i.type === 'send') this.send(i);
      else if (i.type === 'wake_at') this.wake(i.at_ms!);
      else if (i.type === 'rendition_saved' || i.type === 'caption_saved') changed = true;
      else if (i.type === 'notify') {
        changed = true;
        this.onNotice(i.job_id!, i.kind!, i.message!);
      }
    }
    if (changed || out.some((i) => i.type === 'send')) this.onJobs(this.jobs());
  }

  private send(i: Instruction): void {
    const id = i.request_id!;
    const init: RequestInit = { method: i.method!, headers: i.headers! };
    if (i.body) init.body = i.body;
    if (i.body_blob) {
      try {
        init.body = this.blob(i.body_blob);
      } catch (err) {
        // Gone from the vault between the core's signing and now: answered like a lost request.
        this.serial(() => this.event({ type: 'network_error', request_id: id, reason: String(err) }));
        return;
      }
    }
    const submission = i.method === 'POST' && i.target === '/v1/jobs' ? submissionKey(i.body) : '';
    fetch(i.target!, init).then(
      async (res) => {
        if (submission && res.status !== 401 && res.status !== 408 && res.status !== 429 && res.status < 500) {
          this.toSw({ type: 'cairn-jobs:settled', idempotencyKey: submission });
        }
        const bytes = new Uint8Array(await res.arrayBuffer());
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        this.serial(() => this.respond(id, res.status, headers, bytes));
      },
      (err: unknown) => {
        if (submission) {
          this.toSw({
            type: 'cairn-jobs:queue',
            submission: {
              idempotencyKey: submission,
              url: new URL(i.target!, self.location.href).href,
              headers: i.headers!,
              body: i.body!,
            },
          });
        }
        this.serial(() => {
          this.event({ type: 'network_error', request_id: id, reason: String((err as Error).message ?? err) });
        });
      },
    );
  }

  /** A vault blob's bytes (cairn_blob_read: every chunk authenticated, the hash checked). */
  private blob(hash: string): Uint8Array<ArrayBuffer> {
    return this.core.withStrings([hash], ([h]) => this.core.bytes('blob_read', this.vault, h!));
  }

  private wake(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.serial(() => this.event({ type: 'tick' }));
    }, Math.max(0, at - Date.now()));
  }
}

function submissionKey(body: string | undefined): string {
  try {
    return String((JSON.parse(body ?? '') as { idempotency_key?: string }).idempotency_key ?? '');
  } catch {
    return '';
  }
}
