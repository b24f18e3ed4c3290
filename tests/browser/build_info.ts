// What build/pwa holds (pwa/build.mjs writes build-info.json), and its precache list.
import * as fs from 'node:fs';
import { join, relative } from 'node:path';
import { APP_DIR } from './server';

export interface BuildInfo {
  inputs: string;
  coreWorker: string | null;
  wasmModule: boolean;
  ort: string[];
}

export function buildInfo(dir = APP_DIR): BuildInfo {
  return JSON.parse(fs.readFileSync(join(dir, 'build-info.json'), 'utf8')) as BuildInfo;
}

/** The files the service worker must precache: all of the build but sw.js and dotfiles. */
export function expectedPrecache(dir = APP_DIR): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((f) => f !== 'sw.js' && !f.startsWith('.'))
    .sort();
}
