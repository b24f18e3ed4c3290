// CoreClient: the UI's typed handle on the core worker (protocol.ts). One per page.
//
//   const core = new CoreClient(new Worker('./core_worker.js', { type: 'module' }));
//   await core.call('vault.unlock', { passphrase });
//   const result = await core.call('captions.generate', req, { onText: (t) => out.append(t) });
//
// A failed call rejects with a CairnError whose `code` is the worker's.
import type { PageToSw } from '../../service_worker/messages.js';
import { Api, CairnError, FromWorker, Job, Op } from './protocol.js';

export interface CallOptions {
  onProgress?: (loaded: number, total: number, label: string) => void;
  onText?: (chunk: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: CairnError) => void;
  options: CallOptions;
}

export class CoreClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private jobListeners: ((job: Job) => void)[] = [];
  private swListeners: ((message: PageToSw) => void)[] = [];

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => this.onMessage(e.data));
    worker.addEventListener('error', (e) => {
      const err = new CairnError('internal', `the core worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  call<K extends Op>(op: K, arg: Api[K][0], options: CallOptions = {}): Promise<Api[K][1]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, options });
      this.worker.postMessage({ id, op, arg });
    });
  }

  /** Calls `listener` on every job event; the returned function stops that. */
  onJob(listener: (job: Job) => void): () => void {
    this.jobListeners.push(listener);
    return () => { this.jobListeners = this.jobListeners.filter((l) => l !== listener); };
  }

  /** Messages the worker has for the service worker (the UI forwards them). */
  onServiceWorkerMessage(listener: (message: PageToSw) => void): void {
    this.swListeners.push(listener);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'job') {
      for (const l of this.jobListeners) l(m.job);
      return;
    }
    if (m.type === 'sw') {
      for (const l of this.swListeners) l(m.message);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'progress': p.options.onProgress?.(m.loaded, m.total, m.label); break;
      case 'text': p.options.onText?.(m.chunk); break;
      case 'result': this.pending.delete(m.id); p.resolve(m.value); break;
      case 'error': this.pending.delete(m.id); p.reject(new CairnError(m.code, m.message)); break;
    }
  }
}
