// The benchmark's dedicated worker (a module worker, like the app's core worker): runs one suite
// per worker, so each gets a fresh ONNX Runtime (its thread count is fixed at start) and its own
// OPFS handles, and posts the result back (the probe's worker stays for many runs).
import '../../pwa/src/trusted_types.js'; // the app's CSP requires its Trusted Types policy
import { captionSuite } from './caption_suite.js';
import { oneShotSuite } from './oneshot_suite.js';
import type { BenchReply, BenchRequest, MemoryReply, MemoryReport } from './protocol.js';
import { probeOpen, probeRun } from './probe_suite.js';
import { vaultSuite } from './vault_suite.js';

let memoryReply: ((m: MemoryReport | null) => void) | null = null;
const measure = () =>
  new Promise<MemoryReport | null>((ok) => {
    memoryReply = ok;
    self.postMessage({ measure: true } satisfies BenchReply);
  });

self.addEventListener('message', (e: MessageEvent<BenchRequest | MemoryReply>) => {
  if ('memory' in e.data) {
    memoryReply?.(e.data.memory);
    return;
  }
  const r = e.data;
  void (async () => {
    try {
      const result =
        r.suite === 'vault' ? await vaultSuite(r.scale, r.dir)
        : r.suite === 'captions' ? await captionSuite(r.params, measure)
        : r.suite === 'oneshot' ? await oneShotSuite(r.params, measure)
        : r.suite === 'probe-open' ? await probeOpen(r.params)
        : await probeRun();
      self.postMessage({ ok: true, result } satisfies BenchReply);
    } catch (err) {
      self.postMessage({
        ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err),
      } satisfies BenchReply);
    }
  })();
});
