// Set by pwa/build.mjs: the core worker's URL ("./core_worker.<hash>.js"), or null when the
// build has no core worker.
declare const __CAIRN_CORE_WORKER__: string | null;
