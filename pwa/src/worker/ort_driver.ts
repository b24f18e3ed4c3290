// ONNX Runtime Web for the core's generation step machine: one warmed session per model, the
// KV cache kept here as ORT tensors (present.* fed back as past_key_values.*, never copied into
// the core), only the last position's logits handed over.
//
// Backends: the session is created on the first execution provider that works, in the order
// asked for (webnn → webgpu → wasm by default, each only if the probe found it usable or the
// caller asked for it explicitly); a provider that fails at creation or on the warm-up run is
// skipped, and why is recorded. `backend` names the one that actually runs.
import * as ort from 'onnxruntime-web/all';
import type { Backend } from '../protocol.js';
import { LatencyWindow } from './latency.js';

export interface TensorSpec {
  name: string;
  type: string;
  shape: string[];
}

export interface Attempt {
  backend: Backend;
  error: string;
}

const WINDOW = 256;

export class DecoderSession {
  private kv = new Map<string, ort.Tensor>();
  private readonly stepMs = new LatencyWindow(WINDOW);
  warmUpMs = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    readonly attempts: Attempt[],
    private readonly kvSpecs: TensorSpec[],
    readonly vocabSize: number,
  ) {}

  /** Creates and warms a session on the first backend in `order` that works. */
  static async create(
    model: Uint8Array,
    inputs: TensorSpec[],
    order: Backend[],
  ): Promise<DecoderSession> {
    const attempts: Attempt[] = [];
    const kvSpecs = inputs.filter((t) => t.name.startsWith('past_key_values.'));
    for (const backend of order) {
      let session: ort.InferenceSession | null = null;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: [backend === 'webnn' ? { name: 'webnn', deviceType: 'cpu' } : backend],
          graphOptimizationLevel: 'all',
        });
        const probe = new DecoderSession(session, backend, attempts, kvSpecs, 0);
        const t0 = performance.now();
        const logits = await probe.runRaw([0], 0);
        const d = new DecoderSession(session, backend, attempts, kvSpecs, logits.length);
        d.warmUpMs = performance.now() - t0;
        d.reset();
        return d;
      } catch (e) {
        attempts.push({ backend, error: String((e as Error).message ?? e).slice(0, 300) });
        await session?.release().catch(() => undefined);
      }
    }
    throw new Error(
      `no backend could run the model: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}`,
    );
  }

  /** Forgets the KV cache (a new sequence). */
  reset(): void {
    for (const t of this.kv.values()) t.dispose();
    this.kv.clear();
  }

  /** Runs the model on `ids` after `past` cached tokens; returns the last position's logits. */
  async step(ids: Int32Array | number[], past: number): Promise<Float32Array> {
    const t0 = performance.now();
    const logits = await this.runRaw(ids, past);
    if (past > 0) {
      this.stepMs.add(performance.now() - t0);
    }
    return logits;
  }

  /** Per-token decode latency over the last steps, or null before any. */
  latency(): { p50: number; p95: number } | null {
    return this.stepMs.percentiles();
  }

  private async runRaw(ids: Int32Array | number[], past: number): Promise<Float32Array> {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(past + n).fill(1n), [1, past + n]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => BigInt(past + i)),
        [1, n],
      ),
    };
    const names = new Set(this.session.inputNames);
    for (const k of Object.keys(feeds)) if (!names.has(k)) delete feeds[k];
    for (const spec of this.kvSpecs) {
      let t = past > 0 ? this.kv.get(spec.name) : undefined;
      if (!t) {
        const dims = spec.shape.map((d) => (/^\d+$/.test(d) ? Number(d) : d.includes('batch') ? 1 : 0));
        t = new ort.Tensor('float32', new Float32Array(0), dims);
      }
      feeds[spec.name] = t;
    }
    const out = await this.session.run(feeds);
    for (const spec of this.kvSpecs) {
      const present = out[spec.name.replace('past_key_values.', 'present.')];
      if (!present) throw new Error(`the model has no output for ${spec.name}`);
      const old = this.kv.get(spec.name);
      if (old && old !== present) old.dispose();
      this.kv.set(spec.name, present);
    }
    const logits = out['logits'];
    if (!logits) throw new Error('the model has no logits output');
    const vocab = logits.dims[logits.dims.length - 1]!;
    const rows = logits.dims.length === 3 ? logits.dims[1]! : 1;
    const data = (await logits.getData()) as Float32Array;
    const last = data.slice((rows - 1) * vocab, rows * vocab);
    logits.dispose();
    return last;
  }
}

/** An embedding pack's graph (models/README.md: input_ids int64 [batch, sequence], 0 = padding →
 * embedding float32 [batch, D], unit length or zero) on the first backend that works, warmed. */
export class EmbeddingSession {
  private readonly runMs = new LatencyWindow(WINDOW);

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    readonly attempts: Attempt[],
    readonly dims: number,
  ) {}

  static async create(model: Uint8Array, order: Backend[]): Promise<EmbeddingSession> {
    const attempts: Attempt[] = [];
    for (const backend of order) {
      let session: ort.InferenceSession | null = null;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: [backend === 'webnn' ? { name: 'webnn', deviceType: 'cpu' } : backend],
          graphOptimizationLevel: 'all',
        });
        if (!session.inputNames.includes('input_ids') || !session.outputNames.includes('embedding')) {
          throw new Error('the graph does not take input_ids and give embedding');
        }
        const probe = new EmbeddingSession(session, backend, attempts, 0);
        const warm = await probe.runRaw([[1]]);
        return new EmbeddingSession(session, backend, attempts, warm.dims);
      } catch (e) {
        attempts.push({ backend, error: String((e as Error).message ?? e).slice(0, 300) });
        await session?.release().catch(() => undefined);
      }
    }
    throw new Error(
      `no backend could run the embedding model: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}`,
    );
  }

  /** One vector per id list (one padded batch); an empty list gives the zero vector. */
  async embed(batch: (Int32Array | number[])[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const t0 = performance.now();
    const { data, dims } = await this.runRaw(batch);
    this.runMs.add((performance.now() - t0) / batch.length);
    return batch.map((_, i) => data.slice(i * dims, (i + 1) * dims));
  }

  /** Per-text embedding time over the last runs (ms), or null before any. */
  latency(): { p50: number; p95: number } | null {
    return this.runMs.percentiles();
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private async runRaw(batch: (Int32Array | number[])[]): Promise<{ data: Float32Array; dims: number }> {
    const width = Math.max(1, ...batch.map((b) => b.length));
    const ids = new BigInt64Array(batch.length * width); // 0: padding
    batch.forEach((row, i) => row.forEach((id, j) => (ids[i * width + j] = BigInt(id))));
    const out = await this.session.run({
      input_ids: new ort.Tensor('int64', ids, [batch.length, width]),
    });
    const e = out['embedding'];
    if (!e || e.dims.length !== 2 || e.dims[0] !== batch.length) {
      throw new Error('the embedding model gave no [batch, D] embedding');
    }
    const data = (await e.getData()) as Float32Array;
    const dims = e.dims[1]!;
    e.dispose();
    return { data, dims };
  }
}

/** A one-shot model (image safety, photo tags) on the first backend that works; `feeds` and
 * outputs are plain ORT tensors. */
export class OneShotSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    readonly attempts: Attempt[],
  ) {}

  static async create(model: Uint8Array, order: Backend[]): Promise<OneShotSession> {
    const attempts: Attempt[] = [];
    for (const backend of order) {
      try {
        const session = await ort.InferenceSession.create(model, {
          executionProviders: [backend === 'webnn' ? { name: 'webnn', deviceType: 'cpu' } : backend],
          graphOptimizationLevel: 'all',
        });
        return new OneShotSession(session, backend, attempts);
      } catch (e) {
        attempts.push({ backend, error: String((e as Error).message ?? e).slice(0, 300) });
      }
    }
    throw new Error(`no backend could run the model: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}`);
  }

  /** Runs with one float32 input; returns the named outputs' data. */
  async run(input: string, data: Float32Array, dims: number[], outputs: string[]): Promise<Record<string, Float32Array>> {
    const out = await this.session.run({ [input]: new ort.Tensor('float32', data, dims) });
    const got: Record<string, Float32Array> = {};
    for (const name of outputs) {
      const t = out[name];
      if (!t) throw new Error(`the model gave no ${name}`);
      got[name] = (await t.getData()) as Float32Array;
    }
    for (const t of Object.values(out)) t.dispose();
    return got;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
