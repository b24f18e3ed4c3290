// Starts the cairn-server every test shares (build/pwa at /, a test models dir at /models/) and
// hands its URL to the tests in CAIRN_TEST_URL. The teardown stops it.
import * as fs from 'node:fs';
import { APP_DIR, makeModelsDir, startServer } from './server';

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!fs.existsSync(`${APP_DIR}/sw.js`)) throw new Error('build/pwa is missing: run ./cairn pwa');
  const models = makeModelsDir();
  const server = await startServer({ app: APP_DIR, models });
  process.env['CAIRN_TEST_URL'] = server.url;
  process.env['CAIRN_TEST_MODELS'] = models;
  return async () => {
    await server.stop();
    fs.rmSync(models, { recursive: true, force: true });
  };
}
