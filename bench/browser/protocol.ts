// What the benchmark page and its worker say to each other (types only: both sides import it).
import type { Backend } from '../../pwa/src/protocol.js';

export interface CaptionParams {
  dir: string; // OPFS folder for this run's vault
  pack: string; // directory under /models/
  precision: 'int8' | 'fp32';
  backend: Backend;
  numThreads: number; // 0: ONNX Runtime Web's default
  runs: number;
  warmup: number;
  loads: number; // model loads measured (the median is reported)
  maxSteps: number; // 0: generate until the core is done; else stop each run after this many
  budgetMs?: number; // stop measuring after this long (at least 2 runs); absent: every run

  trustedKeys: string;
}

export interface OneShotParams {
  dir: string;
  pack: string; // directory under /models/ (an image-tags, image-safety or embedding pack)
  precision: 'int8' | 'fp32';
  backend: Backend;
  runs: number;
  warmup: number;
  budgetMs: number; // stop measuring after this long (at least 2 runs): WebGPU on SwiftShader is slow
  trustedKeys: string;
}

export interface ProbeParams {
  pack: string;
  precision: 'int8' | 'fp32';
  numThreads: number;
  promptTokens: number;
  tokens: number;
}

export interface MemoryReport {
  totalBytes: number; // the whole origin (page + workers)
  workerBytes: number; // attributed to dedicated workers
  error?: string;
}

export type BenchRequest =
  | { suite: 'vault'; scale: number; dir: string }
  | { suite: 'captions'; params: CaptionParams }
  | { suite: 'oneshot'; params: OneShotParams }
  | { suite: 'probe-open'; params: ProbeParams }
  | { suite: 'probe-run' };

/** worker → page: a result, a failure, or a request to measure memory now. */
export type BenchReply =
  | { ok: true; result: unknown }
  | { ok: false; error: string }
  | { measure: true };

/** page → worker after a measure request. */
export interface MemoryReply {
  memory: MemoryReport | null;
}
