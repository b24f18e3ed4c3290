// Trusted Types: the server's Content-Security-Policy says `require-trusted-types-for 'script'`
// and allows one policy, `default`, made here before anything else runs (the page and the core
// worker import this first). With it, every string that reaches an HTML or script sink goes
// through this policy:
//  - HTML (the markup setters and parsers that pwa/build.mjs also keeps out of the source):
//    always refused. Cairn builds its DOM with elements and textContent, so a string that tries
//    to become markup is a bug or an attack, most likely model output or a draft on its way to
//    being rendered. The build's check covers Cairn's code; this covers every dependency too.
//  - script text (eval-like sinks, script.text): always refused.
//  - script URLs (new Worker, serviceWorker.register, importScripts): only this origin's own
//    files (and blob: URLs it made), so no script from elsewhere can start.
// Browsers without Trusted Types ignore the CSP directive; the rule of never rendering strings
// as HTML is then kept by the code alone, as everywhere.

interface TrustedTypePolicyFactoryLike {
  createPolicy(
    name: string,
    rules: {
      createHTML?: (input: string) => string;
      createScript?: (input: string) => string;
      createScriptURL?: (input: string) => string;
    },
  ): unknown;
}

function refuse(kind: string): (input: string) => string {
  return (input) => {
    throw new TypeError(
      `Cairn never turns a string into ${kind} (refused: ${JSON.stringify(input.slice(0, 80))})`,
    );
  };
}

function sameOriginScriptUrl(input: string): string {
  const url = new URL(input, self.location.href);
  const origin = url.protocol === 'blob:' ? new URL(url.pathname).origin : url.origin;
  if (origin !== self.location.origin) {
    throw new TypeError(`script URL ${url.href} is not from this origin`);
  }
  return url.href;
}

const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactoryLike }).trustedTypes;
if (factory !== undefined) {
  factory.createPolicy('default', {
    createHTML: refuse('HTML'),
    createScript: refuse('script'),
    createScriptURL: sameOriginScriptUrl,
  });
}

export {};
