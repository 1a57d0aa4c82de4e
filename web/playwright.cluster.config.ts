// End-to-end tests against the production-shaped local cluster (deploy/local-cluster.sh):
// NGINX in front of two balsam-server replicas on PostgreSQL + Redis. The cluster is
// started and stopped outside (see `make cluster-e2e`); this config only points at it.
import { defineConfig } from '@playwright/test'

const baseURL = process.env.BALSAM_CLUSTER_URL ?? 'http://127.0.0.1:18300'
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export default defineConfig({
  testDir: './e2e-cluster',
  // Not test-results/: Playwright empties its output folder first, and the main suite's
  // screenshots of every view (test-results/screenshots/) must outlive this run.
  outputDir: 'test-results-cluster',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: 'list',
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
})
