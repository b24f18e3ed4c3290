// The browser benchmark's page (bench/browser, built into build/bench-web) loads and runs one
// tiny iteration of each suite, so it cannot rot between benchmark runs. It checks that results
// come back, never how fast: figures are ./cairn bench browser's job. Opt-in, because it took
// ~30 s on a loaded 2-core machine: CAIRN_BENCH_SMOKE=1 ./cairn browser tests/browser/bench_page.spec.ts
import * as fs from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { ROOT, startServer } from './server';

const BENCH_DIR = join(ROOT, 'build/bench-web');

interface Stats {
  tokens: number;
  tokensPerSecond: number;
}

test('the benchmark page runs the vault, caption and one-shot suites once', async ({ page }) => {
  const models = process.env['CAIRN_TEST_MODELS'] ?? '';
  const keys = process.env['CAIRN_TRUSTED_KEYS'] ?? '';
  test.skip(process.env['CAIRN_BENCH_SMOKE'] !== '1', 'opt-in: CAIRN_BENCH_SMOKE=1');
  test.setTimeout(240_000); // about 1.7 min here: ORT's start is paid by every suite's worker
  test.skip(!fs.existsSync(join(models, 'tiny-llama', 'manifest.json')) || !keys,
    'needs the signed tiny test pack (./cairn browser provides it)');
  const server = await startServer({ app: BENCH_DIR, models });
  try {
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset['ready'] === '1');
    const run = (worker: string, request: unknown) =>
      page.evaluate(
        ([w, r]) =>
          (window as unknown as { cairnBench: { run(w: string, r: unknown): Promise<unknown> } }).cairnBench.run(w, r),
        [worker, request] as const,
      );
    const vault = (await run('worker.js', { suite: 'vault', scale: 0.001, dir: 'smoke-vault' })) as {
      cairn: Record<string, number>;
      peer: Record<string, number>;
    };
    expect(Object.keys(vault.cairn)).toEqual(Object.keys(vault.peer));
    for (const v of [...Object.values(vault.cairn), ...Object.values(vault.peer)]) expect(v).toBeGreaterThan(0);

    // The worker on ORT's plain wasm build (half the size of the app's JSEP build, so it starts
    // sooner): the same suite code, which is what this test keeps from rotting.
    const captions = (await run('worker-wasm.js', {
      suite: 'captions',
      params: {
        dir: 'smoke-captions', pack: 'tiny-llama', precision: 'fp32', backend: 'wasm', numThreads: 0,
        runs: 1, warmup: 1, loads: 1, maxSteps: 8, trustedKeys: keys,
      },
    })) as { backend: string; engine: Stats; bare: Stats };
    expect(captions.backend).toBe('wasm');
    expect(captions.engine.tokens).toBeGreaterThan(1);
    expect(captions.bare.tokens).toBe(captions.engine.tokens);

    // The one-shot suite on a tiny image pack and the tiny embedder: the app's path and the bare
    // session both ran, and the app's result is what the pack's task gives.
    for (const [pack, found] of [['tiny-image-safety', /^(Drawing|Hentai|Neutral|Porn|Sexy)$/], ['tiny-embed', /^\d+-d vector$/]] as const) {
      const r = (await run('worker-wasm.js', {
        suite: 'oneshot',
        params: { dir: `smoke-${pack}`, pack, precision: 'int8', backend: 'wasm', runs: 1, warmup: 0, budgetMs: 60_000, trustedKeys: keys },
      })) as { backend: string; variant: string; cairn: { runs: number }; bare: { runs: number }; result: string };
      expect(r.backend).toBe('wasm');
      expect(r.variant).toBe('wasm-int8');
      expect([r.cairn.runs, r.bare.runs]).toEqual([1, 1]);
      expect(r.result).toMatch(found);
    }
  } finally {
    await server.stop();
  }
});
