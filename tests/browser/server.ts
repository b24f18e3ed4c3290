// cairn-server for the browser tests: a real server process on a free loopback port, with a
// fresh data dir, serving an app dir (--app) and a models dir (--models).
import { spawn } from 'node:child_process';
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
 * the ctest tiny packs (build/native-asan/test-models), else the built-in ones (build/models). */
export function makeModelsDir(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'cairn-models-'));
  const sources = [
    process.env['CAIRN_TEST_MODELS_DIR'],
    join(ROOT, 'build/native-asan/test-models'),
    join(ROOT, 'build/models'),
  ];
  const from = sources.find((s) => s && fs.existsSync(s));
  if (from) fs.cpSync(from, dir, { recursive: true });
  return dir;
}
