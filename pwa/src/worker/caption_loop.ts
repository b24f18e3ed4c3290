// The host's half of the generation step machine (DESIGN.md, principle 1): the core names the
// next feeds, ONNX Runtime Web runs them (ort_driver.ts), the core consumes the last position's
// logits. One function, so the core worker and the browser benchmark (bench/browser) drive
// exactly the same loop.
import type { Core } from './core.js';
import type { LoadedModel } from './models.js';

/** caption_finish's JSON (api/README.md). */
export interface CaptionJson {
  captions: { text: string; problems: string[]; safety: { level: string; findings: { reason: string }[] } }[];
  problems: string[];
  provenance: {
    model_id: string; model_version: string; model_checksum: string; quantization: string;
    backend: string; tier: string; preset: string; prompt_schema: string; seed: number;
  };
  stats: { prompt_tokens: number; generated_tokens: number; tokens_per_second: number; total_ms: number };
}

export interface LoopHooks {
  /** Text a step completed (streamed to the UI). */
  text?: (chunk: string) => void;
  /** After each step: the ids it fed and the cached length before it (the benchmark's clock). */
  step?: (ids: Int32Array, past: number) => void;
}

/** Generates for `requestJson` (cairn_caption_start's request) on `model` until the core says
 * done, and returns caption_finish's result. The KV cache is reset before and after. */
export async function runCaption(
  core: Core, model: LoadedModel, requestJson: string, hooks: LoopHooks = {},
): Promise<CaptionJson> {
  const session = core.withStrings([requestJson], ([r]) => core.out('caption_start', model.handle, r!));
  const slots = core.fn('malloc')(16);
  let logitsPtr = 0;
  try {
    model.decoder.reset();
    while (!core.fn('caption_done')(session)) {
      core.check(core.fn('caption_next_feeds')(session, slots, slots + 4, slots + 8));
      const idsPtr = core.m.HEAP32[slots >> 2]!;
      const count = core.m.HEAP32[(slots + 4) >> 2]!;
      const past = core.m.HEAP32[(slots + 8) >> 2]!; // low half of the i64: contexts are small
      const ids = core.m.HEAP32.slice(idsPtr >> 2, (idsPtr >> 2) + count);
      const logits = await model.decoder.step(ids, past);
      if (!logitsPtr) logitsPtr = core.fn('malloc')(logits.length * 4);
      core.m.HEAPF32.set(logits, logitsPtr >> 2);
      const text = core.takeString(core.out('caption_consume', session, logitsPtr, logits.length));
      hooks.step?.(ids, past);
      if (text) hooks.text?.(text);
    }
    const backend = `ort-web-${model.decoder.backend}`;
    return core.withStrings([backend], ([b]) => core.json<CaptionJson>('caption_finish', session, b!));
  } finally {
    if (logitsPtr) core.fn('free')(logitsPtr);
    core.fn('free')(slots);
    core.fn('caption_close')(session);
    model.decoder.reset();
  }
}
