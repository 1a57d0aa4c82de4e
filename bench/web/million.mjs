// Dashboard and Jobs at a million jobs, against an existing data dir (BENCH_DATA_DIR, e.g. a
// copy of one `run.mjs` grew with BENCH_KEEP_DATA=1, or one filled with SQL) served by a
// release server: login → dashboard complete and the API bytes it took, Jobs first page,
// next page and sort by Id, and the JS heap after a sustained stream of job updates.
// Prints numbers; nothing passes or fails.
//
// BENCH_DATA_DIR (required), BENCH_USER / BENCH_PASSWORD, BALSAM_SERVER_BIN
// (target/release/balsam-server), CHROMIUM_PATH, BENCH_STREAM_SECONDS (60), BENCH_RATE (1000
// job updates/s), BENCH_PORT (18996).
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const require = createRequire(join(root, 'web', 'package.json'))
const { chromium } = require('@playwright/test')

const dataDir = process.env.BENCH_DATA_DIR
if (!dataDir) throw new Error('set BENCH_DATA_DIR')
const username = process.env.BENCH_USER ?? 'bench'
const password = process.env.BENCH_PASSWORD ?? 'bench-password-1'
const serverBin = process.env.BALSAM_SERVER_BIN ?? join(root, 'target/release/balsam-server')
const port = Number(process.env.BENCH_PORT ?? 18996)
const streamSeconds = Number(process.env.BENCH_STREAM_SECONDS ?? 60)
const rate = Number(process.env.BENCH_RATE ?? 1000)
const base = `http://127.0.0.1:${port}`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const log = (...a) => console.error(...a)

const server = spawn(serverBin, ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir], {
  env: {
    ...process.env,
    BALSAM_TELEMETRY__LOG_FILTER: 'warn',
    BALSAM_WEB__DIST_DIR: join(root, 'web/dist'),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const results = []
const report = (name, value) => results.push(`- ${name}: ${value}`)
try {
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) break
    } catch {}
    if (i > 100) throw new Error('server did not start')
    await sleep(100)
  }
  const login = await fetch(`${base}/api/v1/auth/password/login`, {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
  })
  const token = (await login.json()).access_token
  const auth = { Authorization: `Bearer ${token}`, 'content-type': 'application/json' }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--disable-gpu', '--enable-precise-memory-info'],
  })

  // ---- login → dashboard complete, API bytes --------------------------------------------
  const times = []
  let bytes = 0
  let calls = []
  for (let round = 0; round < 3; round += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const pending = new Set()
    const seen = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/')) pending.add(r)
    })
    page.on('requestfinished', async (r) => {
      if (!pending.delete(r)) return
      const sizes = await r.sizes()
      seen.push([new URL(r.url()).pathname + new URL(r.url()).search, sizes.responseBodySize])
    })
    await page.goto(`${base}/login`)
    await page.getByLabel('Username').fill(username)
    await page.getByLabel('Password', { exact: true }).fill(password)
    const t0 = Date.now()
    await page.getByRole('button', { name: 'Log in', exact: true }).click()
    await page.locator('[data-testid="total-jobs"]').waitFor()
    await page.locator('[data-testid="throughput-summary"]').waitFor()
    await page.locator('[data-testid="utilization-summary"]').waitFor()
    let quiet = Date.now()
    while (Date.now() - quiet < 500) {
      if (pending.size > 0) quiet = Date.now()
      await sleep(20)
    }
    times.push(quiet - t0)
    bytes = seen.reduce((n, [, b]) => n + b, 0)
    calls = seen
    await context.close()
  }
  times.sort((a, b) => a - b)
  report('login → dashboard complete (every API call answered), median of 3', `${times[1]} ms (${times.join(', ')})`)
  report('API bytes for that (response bodies, after compression)', `${(bytes / 1024).toFixed(1)} kB in ${calls.length} GETs`)
  log(calls.map(([p, b]) => `  ${p} ${b} B`).join('\n'))

  // ---- Jobs: first page, next page, sort by Id -------------------------------------------
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  await page.goto(`${base}/login?redirect=/jobs`)
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.locator('[data-testid="job-count"]').waitFor()
  const firstRow = () =>
    page.evaluate(
      () => document.querySelector('[data-testid="jobs-table"] tbody tr[data-job-id]')?.getAttribute('data-job-id') ?? '',
    )
  const until = async (action) => {
    const before = await firstRow()
    const t0 = Date.now()
    await action()
    while ((await firstRow()) === before) await sleep(5)
    return Date.now() - t0
  }
  const first = []
  const next = []
  const sort = []
  for (let i = 0; i < 3; i += 1) {
    first.push(await until(() => page.goto(`${base}/jobs?per=25&r=${i}`)))
    next.push(await until(() => page.getByRole('button', { name: 'Next page' }).click()))
    sort.push(await until(() => page.getByRole('columnheader', { name: 'Id' }).click()))
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[1]
  report('Jobs first page (navigation → first row shown), median of 3', `${med(first)} ms (${first.join(', ')})`)
  report('Jobs next page (click → first row changed), median of 3', `${med(next)} ms (${next.join(', ')})`)
  report('Jobs sort by Id (click → first row changed), median of 3', `${med(sort)} ms (${sort.join(', ')})`)

  // ---- heap after a sustained stream -----------------------------------------------------
  await page.goto(`${base}/`)
  await page.locator('[data-testid="throughput-summary"]').waitFor()
  const heap = () =>
    page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      return performance.memory.usedJSHeapSize
    })
  const cdp = await context.newCDPSession(page)
  const gc = () => cdp.send('HeapProfiler.collectGarbage')
  await gc()
  const before = await heap()
  const jobsAt = await (await fetch(`${base}/api/v1/jobs/?state=JOB_FINISHED&limit=10000&ordering=-id`, { headers: auth })).json()
  const ids = jobsAt.results.map((j) => j.id)
  const perTick = Math.max(1, Math.round(rate / 10))
  const states = ['RUNNING', 'RUN_DONE', 'POSTPROCESSED']
  const t0 = Date.now()
  let tick = 0
  let sent = 0
  while (Date.now() - t0 < streamSeconds * 1000) {
    const state = states[tick % states.length]
    const chunk = Array.from({ length: perTick }, (_, i) => ids[(tick * perTick + i) % ids.length])
    const started = Date.now()
    await fetch(`${base}/api/v1/jobs/`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify(chunk.map((id) => ({ id, state }))),
    })
    sent += chunk.length
    tick += 1
    await sleep(Math.max(0, 100 - (Date.now() - started)))
  }
  await sleep(2000)
  await gc()
  const after = await heap()
  const stores = await page.evaluate(() => {
    const stores = document.querySelector('#app').__vue_app__.config.globalProperties.$pinia._s
    return { jobs: stores.get('jobs')?.size ?? 0, events: stores.get('logEvents')?.size ?? 0 }
  })
  report(
    `JS heap after ${streamSeconds} s of ${sent} job updates (${(sent / streamSeconds).toFixed(0)}/s, each with its LogEvent) on the dashboard`,
    `${(after / 1e6).toFixed(1)} MB after GC (was ${(before / 1e6).toFixed(1)} MB); stores hold ${stores.jobs} jobs, ${stores.events} LogEvents`,
  )
  await browser.close()
} finally {
  server.kill('SIGTERM')
}
console.log(`\nbalsam web at a million jobs (${dataDir}); load average at the end ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
console.log(results.join('\n'))
