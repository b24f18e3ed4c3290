// What the server's headers give the app: cross-origin isolation (SharedArrayBuffer, so ONNX
// Runtime Web may use threads), MIME types and caching of the real build.
import { buildInfo } from './build_info';
import { expect, test } from './fixtures';

test('COOP and COEP make the app cross-origin isolated', async ({ page }) => {
  await page.goto('/');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');
});

test('the build is served with the right types and caching', async ({ page }) => {
  await page.goto('/');
  const get = async (path: string) => (await page.request.get(path)).headers();
  const html = await get('/');
  expect(html['content-type']).toMatch(/^text\/html/);
  expect(html['cache-control']).toBe('no-cache');
  expect(html['cross-origin-opener-policy']).toBe('same-origin');
  expect(html['cross-origin-embedder-policy']).toBe('require-corp');
  const sw = await get('/sw.js');
  expect(sw['content-type']).toMatch(/^text\/javascript/);
  expect(sw['cache-control']).toBe('no-cache');
  const main = await page.locator('script[type=module]').getAttribute('src');
  expect(main).toMatch(/^\.\/main\.[0-9a-f]{16}\.js$/);
  const js = await get(main!);
  expect(js['content-type']).toMatch(/^text\/javascript/);
  expect(js['cache-control']).toBe('public, max-age=31536000, immutable');
  for (const glue of buildInfo().ort) {
    expect((await get(`/${glue}`))['content-type']).toMatch(/^text\/javascript/);
    expect((await get(`/${glue.replace(/\.mjs$/, '.wasm')}`))['content-type']).toBe(
      'application/wasm',
    );
  }
  expect((await page.request.get('/no-such-file.js')).status()).toBe(404);
  const index = await page.request.get('/models/index.json');
  expect(index.headers()['content-type']).toBe('application/json');
  expect(Array.isArray((await index.json()).packs)).toBe(true);
});

test('a strict Content-Security-Policy: no inline script, no eval beyond WebAssembly', async ({
  page,
}) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto('/');
  const csp = (await page.request.get('/')).headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  // An inline script injected into the page does not run: Trusted Types refuse its text (the
  // default policy never makes script from a string), and the CSP would refuse to run it.
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    try {
      s.textContent = 'window.__inline = 1';
    } catch {
      return 'refused by Trusted Types';
    }
    document.head.append(s);
    return (window as unknown as { __inline?: number }).__inline === 1 ? 'ran' : 'blocked by CSP';
  });
  expect(ran).not.toBe('ran');
  // The app itself (its worker, wasm core and ONNX Runtime) starts under the policy.
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await expect(page.locator('body')).not.toHaveAttribute('data-screen', 'recovery');
  // No violation but the injected script's.
  expect(violations.filter((v) => !v.startsWith('Executing inline script'))).toEqual([]);
});

test('Trusted Types: no string ever becomes HTML or script; scripts only from this origin', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const csp = (await page.request.get('/')).headers()['content-security-policy'] ?? '';
  expect(csp).toContain("require-trusted-types-for 'script'");
  expect(csp).toContain('trusted-types default');
  const outcome = await page.evaluate(() => {
    const tryIt = (f: () => void) => {
      try {
        f();
        return 'allowed';
      } catch (e) {
        return e instanceof TypeError ? 'refused' : `other: ${String(e)}`;
      }
    };
    const div = document.createElement('div');
    return {
      innerHTML: tryIt(() => (div.innerHTML = '<img src=x onerror="document.body.dataset.pwned=1">')),
      insertAdjacentHTML: tryIt(() => div.insertAdjacentHTML('beforeend', '<b>x</b>')),
      foreignWorker: tryIt(() => new Worker('https://example.com/evil.js')),
      anotherPolicy: tryIt(() =>
        (window as unknown as { trustedTypes: { createPolicy: (n: string, r: object) => void } })
          .trustedTypes.createPolicy('escape-hatch', {}),
      ),
      text: tryIt(() => (div.textContent = '<b>text is fine</b>')),
    };
  });
  expect(outcome).toEqual({
    innerHTML: 'refused',
    insertAdjacentHTML: 'refused',
    foreignWorker: 'refused',
    anotherPolicy: 'refused',
    text: 'allowed',
  });
  expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
});
