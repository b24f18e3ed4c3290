// The Emscripten module factory (api/CMakeLists.txt: cairn_web.mjs, MODULARIZE + EXPORT_ES6).
declare module '*/cairn_web.mjs' {
  import type { HostFs } from './opfs_pool';
  export interface CairnModule {
    HEAPU8: Uint8Array;
    HEAP32: Int32Array;
    HEAPF32: Float32Array;
    UTF8ToString(ptr: number, maxBytes?: number): string;
    stringToNewUTF8(s: string): number;
    [exported: `_cairn_${string}`]: (...args: number[]) => number;
  }
  const createCairnCore: (moduleArg: { cairnHostFs: HostFs }) => Promise<CairnModule>;
  export default createCairnCore;
}
