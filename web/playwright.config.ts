// End-to-end tests against the REAL server: `target/debug/balsam-server` (SQLite, in-process
// channel layer, a fresh data dir per run) serving this folder's `dist/`, driven through
// Debian's Chromium. Build both first: `cargo build -p balsam-server` and `npm run build`.
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { defineConfig } from '@playwright/test'

const webDir = fileURLToPath(new URL('.', import.meta.url))
const port = Number(process.env.BALSAM_E2E_PORT ?? 18791)
const baseURL = `http://127.0.0.1:${port}`
const distDir = join(webDir, 'dist')
const serverBinary = resolve(
  process.env.BALSAM_SERVER_BIN ?? join(webDir, '..', 'target', 'debug', 'balsam-server'),
)
const dataDir = join(tmpdir(), `balsam-e2e-${port}`)
// For e2e/globalTeardown.ts, which removes it after the run.
process.env.BALSAM_E2E_DATA_DIR = dataDir
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

for (const [what, path, fix] of [
  ['the server binary', serverBinary, 'cargo build -p balsam-server'],
  ['the built web client', join(distDir, 'index.html'), 'npm run build'],
  ['Chromium', chromium, 'apt-get install -y chromium'],
] as const) {
  if (!existsSync(path)) throw new Error(`e2e needs ${what} at ${path}: run \`${fix}\` first`)
}

export default defineConfig({
  testDir: './e2e',
  globalTeardown: './e2e/globalTeardown.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? 'list' : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `rm -rf '${dataDir}' && exec '${serverBinary}' serve --bind 127.0.0.1:${port} --data-dir '${dataDir}'`,
    url: `${baseURL}/api/v1/auth/how`,
    // Warnings and errors only: request logs would drown the test report.
    env: { BALSAM_WEB__DIST_DIR: distDir, BALSAM_TELEMETRY__LOG_FILTER: 'warn' },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
})
