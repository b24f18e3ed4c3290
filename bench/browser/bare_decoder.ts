// The peer for captions: a plain greedy loop over ONNX Runtime Web, written the way a careful
// user of onnxruntime-web would write it with no Cairn code — the same model file fetched
// unencrypted, the same execution provider, the KV cache kept as ORT tensors (present.* fed back
// as past_key_values.*), only the last position's logits read, argmax in JS.
import * as ort from 'onnxruntime-web/all';

export interface InputSpec {
  name: string;
  shape: string[];
}

export class BareDecoder {
  private kv = new Map<string, ort.Tensor>();
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly kvSpecs: InputSpec[],
    private readonly names: Set<string>,
  ) {}

  static async create(bytes: Uint8Array, inputs: InputSpec[], backend: string): Promise<BareDecoder> {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [backend],
      graphOptimizationLevel: 'all',
    });
    return new BareDecoder(
      session, inputs.filter((i) => i.name.startsWith('past_key_values.')), new Set(session.inputNames));
  }

  reset(): void {
    for (const t of this.kv.values()) t.dispose();
    this.kv.clear();
  }

  async release(): Promise<void> {
    this.reset();
    await this.session.release();
  }

  /** Feeds `ids` after `past` cached positions; returns the argmax of the last position. */
  async next(ids: ArrayLike<number>, past: number): Promise<number> {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {};
    const int64 = (name: string, values: bigint[] | BigInt64Array, len: number) => {
      if (this.names.has(name)) {
        feeds[name] = new ort.Tensor('int64', values instanceof BigInt64Array ? values : BigInt64Array.from(values), [1, len]);
      }
    };
    int64('input_ids', Array.from(ids as ArrayLike<number>, (x) => BigInt(x)), n);
    int64('attention_mask', new BigInt64Array(past + n).fill(1n), past + n);
    int64('position_ids', Array.from({ length: n }, (_, i) => BigInt(past + i)), n);
    for (const spec of this.kvSpecs) {
      const cached = past > 0 ? this.kv.get(spec.name) : undefined;
      feeds[spec.name] = cached ?? new ort.Tensor('float32', new Float32Array(0),
        spec.shape.map((d) => (/^\d+$/.test(d) ? Number(d) : d.includes('batch') ? 1 : 0)));
    }
    const out = await this.session.run(feeds);
    for (const spec of this.kvSpecs) {
      const present = out[spec.name.replace('past_key_values.', 'present.')]!;
      const old = this.kv.get(spec.name);
      if (old && old !== present) old.dispose();
      this.kv.set(spec.name, present);
    }
    const logits = out['logits']!;
    const vocab = logits.dims[logits.dims.length - 1]!;
    const data = (await logits.getData()) as Float32Array;
    let best = 0;
    let bestValue = -Infinity;
    for (let i = data.length - vocab, j = 0; i < data.length; i++, j++) {
      if (data[i]! > bestValue) {
        bestValue = data[i]!;
        best = j;
      }
    }
    logits.dispose();
    return best;
  }
}
