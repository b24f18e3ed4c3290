// cairn-server for the browser tests: a real server process on a free loopback port, with a
// fresh data dir, serving an app dir (--app) and a models dir (--models).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const APP_DIR = join(ROOT, 'build/pwa');

export interface RunningServer {
  url: string; // http://127.0.0.1:PORT
  dataDir: string;
  stop(): Promise<void>;
}

export function serverBinary(): string {
  const candidates = [
    process.env['CAIRN_SERVER_BIN'],
    join(ROOT, 'build/native-asan/server/cairn-server'),
    join(ROOT, 'build/native-release/server/cairn-server'),
  ];
  const bin = candidates.find((c) => c && fs.existsSync(c));
  if (!bin)
    throw new Error('no cairn-server: run ./cairn build native-asan (or set CAIRN_SERVER_BIN)');
  return bin;
}

export interface ServerOptions {
  app: string;
  models: string;
  port?: number; // default 0: a free one
  dataDir?: string; // default: a fresh one, removed by stop(); a given one is kept
  // Render workers even without the caption test pack (image-export needs none, only libvips).
  workers?: number;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(join(os.tmpdir(), 'cairn-server-'));
  const child: ChildProcess = spawn(
    serverBinary(),
    [
      '--port',
      String(options.port ?? 0),
      '--data',
      dataDir,
      '--app',
      options.app,
      '--models',
      options.models,
      // Render workers for HQ jobs, on the tiny test pack (when this models dir has it) signed
      // with the key the app trusts.
      ...(process.env['CAIRN_TRUSTED_KEYS'] &&
      fs.existsSync(join(options.models, 'tiny-llama', 'manifest.json'))
        ? ['--workers', String(options.workers ?? 1), '--caption-model', 'cairn-test-tiny-llama', '--trust', process.env['CAIRN_TRUSTED_KEYS']]
        : ['--workers', String(options.workers ?? 0)]),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`cairn-server did not start in 15 s: ${stderr}`)),
      15_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`cairn-server exited (${code}): ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh models dir for a test server: copies of the packs in $CAIRN_TEST_MODELS_DIR, else
 * the ctest tiny packs (build/native-asan/test-models), else the built-in ones (build/models).
 * With $CAIRN_CLI_BIN and $CAIRN_MODEL_KEY (./cairn browser sets both) every pack is signed with
 * the key the app trusts, and a copy of tiny-llama with one flipped byte in its model file is
 * added as "cairn-test-tampered" (its manifest is validly signed; the file does not match it). */
export function makeModelsDir(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'cairn-models-'));
  const sources = [
    process.env['CAIRN_TEST_MODELS_DIR'],
    join(ROOT, 'build/native-asan/test-models'),
    join(ROOT, 'build/models'),
  ];
  const from = sources.find((s) => s && fs.existsSync(s));
  if (from) fs.cpSync(from, dir, { recursive: true });
  const cli = process.env['CAIRN_CLI_BIN'];
  const key = process.env['CAIRN_MODEL_KEY'];
  if (!cli || !key) return dir;
  const llama = join(dir, 'tiny-llama');
  if (fs.existsSync(join(llama, 'manifest.json'))) {
    const tampered = join(dir, 'tampered');
    fs.cpSync(llama, tampered, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(join(tampered, 'manifest.json'), 'utf8'));
    manifest.id = 'cairn-test-tampered';
    fs.writeFileSync(join(tampered, 'manifest.json'), JSON.stringify(manifest, null, 1));
    const model = fs.readFileSync(join(tampered, 'model.onnx'));
    model[model.length >> 1] ^= 1;
    fs.writeFileSync(join(tampered, 'model.onnx'), model);
  }
  for (const pack of fs.readdirSync(dir)) {
    if (!fs.existsSync(join(dir, pack, 'manifest.json'))) continue;
    const r = spawnSync(cli, ['pack', 'sign', key, join(dir, pack)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`could not sign ${pack}: ${r.stderr}`);
  }
  return dir;
}
