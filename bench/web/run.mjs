#!/usr/bin/env node
// Browser benchmark of the web client against a real balsam-server (release build, SQLite),
// driven through Debian's Chromium with Playwright. Not a test: it prints numbers.
//
//   node bench/web/run.mjs                 (or: npm --prefix web run bench:browser)
//
// 1. update: the Jobs view open, 100 000 jobs created through the API reach the page's store
//    through the event stream; then the time from a 5 000-job update to the repainted table:
//    (a) one PATCH /jobs/ of 5 000 jobs (the server sends it as 5 events of 1 000), from the
//        first frame's arrival; (b) one synthetic event carrying all 5 000 rows, dispatched on
//        the page's socket, from dispatch. Both end at the first animation frame after the
//        visible rows changed.
// 2. stream: while the Jobs view shows page 1, node PATCHes 1 000 jobs every 100 ms
//    (10 000 job updates/s, each with its LogEvent) for a while; the page records every
//    requestAnimationFrame delta, before (idle) and during.
// 3. login: the database grown to 1 000 000 jobs (POST /jobs/ in calls of 5 000), a fresh
//    browser logs in; the time from pressing "Log in" to a populated dashboard.
//
// Options (env): BENCH_STORE_JOBS (100000), BENCH_DB_JOBS (1000000), BENCH_RATE (10000),
// BENCH_STREAM_SECONDS (10), BENCH_REPEAT (3), BALSAM_SERVER_BIN
// (target/release/balsam-server), CHROMIUM_PATH (/usr/bin/chromium), BENCH_KEEP_DATA=1.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { armRepaintWatch, caughtUp, firstRow, heapMb, instrument, median, storeSize, topSelfTime } from './probes.mjs'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const webDir = join(root, 'web')
const require = createRequire(join(webDir, 'package.json'))
const { chromium } = require('@playwright/test')

const env = (name, fallback) => Number(process.env[name] ?? fallback)
const STORE_JOBS = env('BENCH_STORE_JOBS', 100_000)
const DB_JOBS = env('BENCH_DB_JOBS', 1_000_000)
const RATE = env('BENCH_RATE', 10_000)
const STREAM_SECONDS = env('BENCH_STREAM_SECONDS', 10)
const REPEAT = env('BENCH_REPEAT', 3)
const CHUNK = 5_000
const serverBinary = resolve(
  process.env.BALSAM_SERVER_BIN ?? join(root, 'target', 'release', 'balsam-server'),
)
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

for (const [what, path, fix] of [
  ['the release server', serverBinary, 'cargo build --release -p balsam-server'],
  ['the built web client', join(webDir, 'dist', 'index.html'), 'npm --prefix web run build'],
  ['Chromium', chromiumPath, 'apt-get install -y chromium'],
]) {
  if (!existsSync(path)) {
    console.error(`bench needs ${what} at ${path}: run \`${fix}\` first`)
    process.exit(2)
  }
}

const log = (...parts) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts)
const sleep = (ms) => new Promise((done) => setTimeout(done, ms))
const ms = (n) => `${n.toFixed(0)} ms`
/** A request path for the log: a long id list (`id=1&id=2&…`) shown by its count. */
const shortPath = (path) => {
  const ids = path.match(/[?&]id=/g)?.length ?? 0
  if (ids <= 3) return path
  const rest = path.replace(/[?&]id=\d+/g, '').replace(/^([^?&]*)&/, '$1?')
  return `${rest}${rest.includes('?') ? '&' : '?'}id=<${ids} ids>`
}
const results = []
const loadAtStart = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ')
function report(name, value, detail = '') {
  results.push({ name, value, detail })
  log(`RESULT ${name}: ${value}${detail ? ` (${detail})` : ''}`)
}

// ---- the server --------------------------------------------------------------------------

async function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => done(port))
    })
  })
}

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const dataDir = mkdtempSync(join(tmpdir(), 'balsam-bench-web-'))
const server = spawn(
  serverBinary,
  [
    'serve',
    '--bind',
    `127.0.0.1:${port}`,
    '--data-dir',
    dataDir,
    '--web-dir',
    join(webDir, 'dist'),
  ],
  {
    env: { ...process.env, BALSAM_TELEMETRY__LOG_FILTER: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
)
let browser = null
async function cleanUp() {
  await browser?.close().catch(() => undefined)
  if (server.exitCode === null) {
    const exited = new Promise((done) => server.once('exit', done))
    server.kill('SIGTERM')
    await Promise.race([exited, sleep(5_000)])
  }
  if (process.env.BENCH_KEEP_DATA !== '1') rmSync(dataDir, { recursive: true, force: true })
}
process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)))

for (let i = 0; ; i += 1) {
  try {
    if ((await fetch(`${base}/api/v1/auth/how`)).ok) break
  } catch {
    // not yet
  }
  if (i > 300) throw new Error('the server did not start')
  await sleep(100)
}
log(`server ${serverBinary} on ${base}, data in ${dataDir}`)

// ---- the API, from node ------------------------------------------------------------------

let token = ''
async function call(method, path, body, { form = false } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {}
  let payload
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded'
    payload = new URLSearchParams(body).toString()
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const response = await fetch(`${base}/api/v1${path}`, { method, headers, body: payload })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`)
  return { json: text ? JSON.parse(text) : null, headers: response.headers }
}

const user = { username: `bench-${Date.now().toString(36)}`, password: 'bench-password-1' }
await call('POST', '/auth/password/register', user)
token = (await call('POST', '/auth/password/login', user, { form: true })).json.access_token
const site = (
  await call('POST', '/sites/', {
    name: 'bench-site',
    path: '/tmp/bench-site',
    globus_endpoint_id: null,
    backfill_windows: {},
    queued_jobs: {},
    optional_batch_job_params: {},
    allowed_projects: ['bench'],
    allowed_queues: { prod: { max_nodes: 4096, max_walltime: 1440, max_queued_jobs: 10 } },
    transfer_locations: {},
  })
).json
const app = (
  await call('POST', '/apps/', {
    site_id: site.id,
    name: 'Bench',
    serialized_class: '',
    source_code: '',
    description: 'benchmark app',
    parameters: {},
    transfers: {},
  })
).json

let created = 0
async function createJobs(count) {
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done)
    const jobs = Array.from({ length: n }, (_, i) => ({
      workdir: `bench/${created + i}`,
      app_id: app.id,
      tags: { exp: 'bench', shard: String((created + i) % 16) },
      serialized_parameters: '',
      data: {},
      num_nodes: 1,
      ranks_per_node: 1,
      threads_per_rank: 1,
      threads_per_core: 1,
      launch_params: {},
      gpus_per_rank: 0,
      node_packing_count: 1,
      wall_time_min: 0,
      parent_ids: [],
      transfers: {},
    }))
    await call('POST', '/jobs/', jobs)
    created += n
  }
}
async function logHead() {
  return Number((await call('GET', '/sites/?limit=1')).headers.get('x-balsam-seq'))
}

// ---- the page ----------------------------------------------------------------------------

browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ],
})

async function openPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  if (process.env.BENCH_REDUCED_MOTION === '1') await page.emulateMedia({ reducedMotion: 'reduce' })
  await page.addInitScript(instrument)
  return page
}

async function logIn(page, to) {
  await page.goto(`${base}/login?redirect=${encodeURIComponent(to)}`)
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.locator('[data-testid="connection-indicator"][data-phase="live"]').waitFor()
}


try {
  // ---- 0. What this machine does to frames with nothing to do -------------------------------
  {
    const blank = await openPage()
    await blank.goto(`${base}/api/v1/auth/how`)
    await blank.evaluate(() => (window.__bench.deltas = []))
    await sleep(3_000)
    const deltas = await blank.evaluate(() => window.__bench.deltas)
    const budget = 1000 / 60
    const dropped = deltas.reduce((n, d) => n + Math.max(0, Math.round(d / budget) - 1), 0)
    const expected = Math.round(deltas.reduce((a, b) => a + b, 0) / budget)
    report('baseline: frames dropped by a blank page in 3 s', `${dropped} of ${expected}`)
    await blank.context().close()
  }

  // ---- 1. 100 000 jobs in the store, then 5 000-job updates ---------------------------------
  const page = await openPage()
  await logIn(page, '/jobs')
  log(`creating ${STORE_JOBS} jobs with the Jobs view open…`)
  let started = Date.now()
  await createJobs(STORE_JOBS)
  await caughtUp(page)
  const inStore = await storeSize(page, 'jobs')
  report(
    'jobs in the page store',
    inStore,
    `created through the API in ${((Date.now() - started) / 1000).toFixed(1)} s, delivered as bulk-create events; JS heap ${await heapMb(page)} MB`,
  )
  const topIds = (await call('GET', `/jobs/?ordering=-id&limit=${CHUNK}`)).json.results.map(
    (job) => job.id,
  )

  const patched = []
  for (let round = 0; round < REPEAT; round += 1) {
    const state = round % 2 === 0 ? 'RUNNING' : 'RESTART_READY'
    const watch = armRepaintWatch(page, state)
    await page.waitForFunction(() => window.__bench.armed === true)
    await page.evaluate(() => (window.__bench.armed = false))
    const sent = Date.now()
    await call(
      'PATCH',
      '/jobs/',
      topIds.map((id) => ({ id, state })),
    )
    const patchMs = Date.now() - sent
    const timing = await watch
    patched.push(timing.total)
    log(
      `PATCH ${CHUNK} → ${state}: server ${patchMs} ms; first frame → repaint ${ms(timing.total)} (frames spread over ${ms(timing.framesSpread)}, DOM at ${ms(timing.toDom)})`,
    )
    await caughtUp(page)
  }
  report(
    `5 000-job PATCH (5 events of 1 000) → table repainted, ${inStore} jobs in store`,
    ms(median(patched)),
    `median of ${REPEAT}: ${patched.map(ms).join(', ')}; from the first event frame's arrival`,
  )

  // ---- 2. 10 000 job updates/s while the Jobs view is shown ---------------------------------
  const frameStats = (deltas) => {
    const budget = 1000 / 60
    const dropped = deltas.reduce((n, d) => n + Math.max(0, Math.round(d / budget) - 1), 0)
    const sorted = [...deltas].sort((a, b) => a - b)
    const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
    return {
      frames: deltas.length,
      dropped,
      expected: Math.round(deltas.reduce((a, b) => a + b, 0) / budget),
      p50: pct(0.5),
      p95: pct(0.95),
      max: sorted.at(-1) ?? 0,
      over50: deltas.filter((d) => d > 50).length,
    }
  }
  await page.evaluate(() => (window.__bench.deltas = []))
  const idleProfiler =
    process.env.BENCH_PROFILE === 'idle' ? await page.context().newCDPSession(page) : null
  if (idleProfiler) {
    await idleProfiler.send('Profiler.enable')
    await idleProfiler.send('Profiler.start')
  }
  await sleep(3_000)
  if (idleProfiler) {
    const { profile } = await idleProfiler.send('Profiler.stop')
    for (const [name, msSelf] of topSelfTime(profile, 15))
      log(`  idle self ${msSelf.toFixed(0)} ms  ${name}`)
    await idleProfiler.detach()
  }
  const idle = frameStats(await page.evaluate(() => window.__bench.deltas))
  report(
    'idle Jobs view: frames dropped in 3 s',
    `${idle.dropped} of ${idle.expected}`,
    `frame delta p50 ${idle.p50.toFixed(1)} ms, p95 ${idle.p95.toFixed(1)} ms, max ${idle.max.toFixed(0)} ms`,
  )

  const perCall = Math.max(1, Math.round(RATE / 10))
  const pool = topIds.slice(0, Math.min(topIds.length, 10_000))
  log(
    `streaming ${RATE} job updates/s (${perCall} per PATCH every 100 ms) for ${STREAM_SECONDS} s…`,
  )
  await page.evaluate(() => {
    window.__bench.deltas = []
    window.__bench.longTasks = []
    window.__bench.onFrame = null
    window.__bench.framesAtStart = window.__bench.frames
  })
  const profiler =
    process.env.BENCH_PROFILE === '1' ? await page.context().newCDPSession(page) : null
  if (profiler) {
    await profiler.send('Profiler.enable')
    await profiler.send('Profiler.setSamplingInterval', { interval: 200 })
    await profiler.send('Profiler.start')
  }
  const streamStart = Date.now()
  let sentUpdates = 0
  let calls = 0
  const inFlight = new Set()
  let lagging = 0
  for (let tick = 0; tick < STREAM_SECONDS * 10; tick += 1) {
    const due = streamStart + tick * 100
    await sleep(Math.max(0, due - Date.now()))
    if (inFlight.size >= 4) {
      lagging += 1
      continue
    }
    const state = tick % 2 === 0 ? 'RUNNING' : 'RESTART_READY'
    const offset = (tick * perCall) % pool.length
    const ids = pool.slice(offset, offset + perCall)
    const request = call(
      'PATCH',
      '/jobs/',
      ids.map((id) => ({ id, state })),
    ).then(() => {
      sentUpdates += ids.length
      calls += 1
      inFlight.delete(request)
    })
    inFlight.add(request)
  }
  await Promise.all(inFlight)
  const streamSeconds = (Date.now() - streamStart) / 1000
  const during = await page.evaluate(() => ({
    deltas: window.__bench.deltas,
    longTasks: window.__bench.longTasks,
    frames: window.__bench.frames - window.__bench.framesAtStart,
  }))
  await page.evaluate(() => (window.__bench.deltas = null))
  if (profiler) {
    const { profile } = await profiler.send('Profiler.stop')
    for (const [name, msSelf] of topSelfTime(profile, 20))
      log(`  self ${msSelf.toFixed(0)} ms  ${name}`)
    await profiler.detach()
  }
  const stream = frameStats(during.deltas)
  const longest = Math.max(0, ...during.longTasks.map(([, d]) => d))
  report(
    `job updates streamed while the Jobs view shows page 1`,
    `${Math.round(sentUpdates / streamSeconds)} updates/s for ${streamSeconds.toFixed(1)} s`,
    `${calls} PATCH calls${lagging ? `, ${lagging} ticks skipped with 4 calls in flight` : ''}; ${during.frames} socket frames`,
  )
  report(
    'frames dropped during the stream',
    `${stream.dropped} of ${stream.expected} (${((100 * stream.dropped) / Math.max(1, stream.expected)).toFixed(1)} %)`,
    `frame delta p50 ${stream.p50.toFixed(1)} ms, p95 ${stream.p95.toFixed(1)} ms, max ${stream.max.toFixed(0)} ms; ${stream.over50} frames over 50 ms; ${during.longTasks.length} long tasks, longest ${longest.toFixed(0)} ms`,
  )
  await caughtUp(page)
  report('jobs in the page store after the stream', await storeSize(page, 'jobs'))
  report(
    'LogEvents in the page store after the stream',
    await storeSize(page, 'logEvents'),
    `JS heap ${await heapMb(page)} MB`,
  )

  // (b) One synthetic event of 5 000 full rows, dispatched on the page's socket. It takes the
  // next seq, so the server's own next event would be dropped: nothing follows on this page.
  const synthetic = []
  for (let round = 0; round < REPEAT; round += 1) {
    const state = round % 2 === 0 ? 'RUN_ERROR' : 'RESTART_READY'
    const timing = await page.evaluate(
      async ({ state, count }) => {
        const { token } = JSON.parse(localStorage.getItem('balsam.auth'))
        const response = await fetch(`/api/v1/jobs/?ordering=-id&limit=${count}`, {
          headers: { Authorization: `Bearer ${token}` },
        })
        const rows = (await response.json()).results
        const now = new Date().toISOString().replace('Z', '+00:00')
        const bench = window.__bench
        const seq = bench.maxSeq + 1
        const text = JSON.stringify({
          seq,
          action: 'bulk-update',
          type: 'job',
          data: rows.map((row) => ({ ...row, state, last_update: now })),
        })
        const socket = bench.sockets.at(-1)
        const table = document.querySelector('[data-testid="jobs-table"] tbody')
        return new Promise((done) => {
          let t0 = 0
          const observer = new MutationObserver(() => {
            const cell = table.querySelector('tr:first-child td:nth-child(3)')
            if (cell?.textContent?.trim() !== state) return
            observer.disconnect()
            const changedAt = performance.now()
            requestAnimationFrame((painted) =>
              done({ total: painted - t0, toDom: changedAt - t0, bytes: text.length }),
            )
          })
          observer.observe(table, { subtree: true, childList: true, characterData: true })
          t0 = performance.now()
          socket.dispatchEvent(new MessageEvent('message', { data: text }))
        })
      },
      { state, count: CHUNK },
    )
    synthetic.push(timing.total)
    log(
      `synthetic event of ${CHUNK} rows (${(timing.bytes / 1e6).toFixed(1)} MB) → repaint ${ms(timing.total)} (DOM at ${ms(timing.toDom)})`,
    )
    await sleep(500)
  }
  report(
    `one 5 000-job update-list event → table repainted, ${await storeSize(page, 'jobs')} jobs in store`,
    ms(median(synthetic)),
    `median of ${REPEAT}: ${synthetic.map(ms).join(', ')}; parse, apply, recompute and render, from dispatch`,
  )
  await page.context().close()

  // ---- 3. 1 000 000 jobs in the database: log in to a populated dashboard --------------------
  log(`growing the database to ${DB_JOBS} jobs…`)
  started = Date.now()
  await createJobs(DB_JOBS - created)
  log(
    `created ${created} jobs in all (${((Date.now() - started) / 1000).toFixed(0)} s for the rest)`,
  )
  const expected = new Intl.NumberFormat('en-US').format(created)
  const shown = []
  const settled = []
  for (let round = 0; round < REPEAT; round += 1) {
    const fresh = await openPage()
    const calls = []
    const pending = new Set()
    fresh.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/v1/')) pending.add(request)
    })
    const finished = (request) => {
      if (!pending.delete(request)) return
      const url = new URL(request.url())
      calls.push([request.timing().responseEnd, `${url.pathname}${url.search}`])
    }
    fresh.on('requestfinished', finished)
    fresh.on('requestfailed', finished)
    await fresh.goto(`${base}/login`)
    await fresh.getByLabel('Username').fill(user.username)
    await fresh.getByLabel('Password', { exact: true }).fill(user.password)
    const t0 = Date.now()
    await fresh.getByRole('button', { name: 'Log in', exact: true }).click()
    await fresh
      .locator('[data-testid="total-jobs"]', { hasText: `${expected} jobs` })
      .waitFor({ timeout: 120_000 })
    await fresh.locator('[data-testid="site-health"]').first().waitFor()
    await fresh.locator('[data-testid="throughput-summary"]').waitFor()
    await fresh.locator('[data-testid="utilization-summary"]').waitFor()
    await fresh.evaluate(() => new Promise((done) => requestAnimationFrame(() => done())))
    const numbers = Date.now() - t0
    // Then until every API call the dashboard made has answered (and none followed for 500 ms).
    let quietSince = Date.now()
    while (Date.now() - quietSince < 500) {
      if (pending.size > 0) quietSince = Date.now()
      if (Date.now() - t0 > 120_000) throw new Error('the dashboard never stopped loading')
      await sleep(25)
    }
    const complete = quietSince - t0
    shown.push(numbers)
    settled.push(complete)
    calls.sort((a, b) => b[0] - a[0])
    log(
      `login → dashboard numbers ${numbers} ms, every API call answered ${complete} ms; slowest: ${calls
        .slice(0, 3)
        .map(([t, path]) => `${shortPath(decodeURIComponent(path))} ${t.toFixed(0)} ms`)
        .join('; ')}`,
    )
    await fresh.context().close()
  }
  report(
    `login → dashboard shows its numbers, ${expected} jobs in the database`,
    ms(median(shown)),
    `median of ${REPEAT}: ${shown.map(ms).join(', ')}; the job total, Site cards and both chart captions`,
  )
  report(
    `login → dashboard fully loaded, ${expected} jobs in the database`,
    ms(median(settled)),
    `median of ${REPEAT}: ${settled.map(ms).join(', ')}; every API call it made answered`,
  )
} finally {
  await cleanUp()
}

console.log('\nbalsam web client, browser benchmark')
console.log(`server: ${serverBinary} (SQLite), Chromium: ${chromiumPath}`)
console.log(
  `machine: ${cpus().length} CPUs; load average at start ${loadAtStart}, at the end ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
)
for (const { name, value, detail } of results) {
  console.log(`- ${name}: ${value}${detail ? `\n    ${detail}` : ''}`)
}
