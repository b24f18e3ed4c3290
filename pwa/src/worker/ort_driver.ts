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
  private readonly stepMs: number[] = [];
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
      this.stepMs.push(performance.now() - t0);
      if (this.stepMs.length > WINDOW) this.stepMs.shift();
    }
    return logits;
  }

  /** Per-token decode latency over the last steps, or null before any. */
  latency(): { p50: number; p95: number } | null {
    if (this.stepMs.length === 0) return null;
    const s = [...this.stepMs].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    return { p50: at(0.5), p95: at(0.95) };
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
