// The browser tests: Playwright with Debian's Chromium (never a downloaded browser), one worker
// (the machine is shared), against the cairn-server that global_setup.ts starts.
// Run: ./cairn browser [playwright args], or as the last phase of ./cairn test.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  globalSetup: './global_setup.ts',
  outputDir: '../../build/browser-results',
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  forbidOnly: true,
  reporter: [['list']],
});
