// Dashboard and Jobs at a million jobs, against an existing data dir (BENCH_DATA_DIR, e.g. a
// copy of one `run.mjs` grew with BENCH_KEEP_DATA=1, or one filled with SQL) served by a
// release server: login → dashboard complete and the API bytes it took, Jobs first page,
// next page and sort by Id, and the JS heap after a sustained stream of job updates.
// Prints numbers; nothing passes or fails.
//
// BENCH_DATA_DIR (required; `seed-million.sh` makes one), BENCH_DATABASE_URL (a PostgreSQL
// database; by default the data dir's `database-url` file when there is one, else its SQLite
// file), BENCH_USER / BENCH_PASSWORD, BALSAM_SERVER_BIN (target/release/balsam-server),
// CHROMIUM_PATH, BENCH_STREAM_SECONDS (60), BENCH_RATE (1000 job updates/s), BENCH_PORT
// (18996), BENCH_PROFILE=1 (for each Jobs step: the API calls it made, when each started and
// ended after the click, and the page's top functions by self time; BENCH_PROFILE_DIR also
// keeps each step's profile there, for DevTools' Performance panel), BENCH_TRACE=1 (for each
// Jobs step: the renderer main thread's self time by trace event, so style, layout and paint
// show apart from script), BENCH_STEPS (3: rounds of first page, next page and sort),
// BENCH_ONLY=jobs (only the Jobs steps: no dashboard rounds, no stream), BENCH_WEB_DIST
// (web/dist: another build, to compare two under the same load).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { mainThreadSelfTime, median, topSelfTime } from './probes.mjs'

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

const urlFile = join(dataDir, 'database-url')
const databaseUrl =
  process.env.BENCH_DATABASE_URL ??
  (existsSync(urlFile) ? readFileSync(urlFile, 'utf8').trim() : undefined)
const backend = databaseUrl?.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'
const profile = process.env.BENCH_PROFILE === '1'
const profileDir = process.env.BENCH_PROFILE_DIR
let profiled = 0
const tracing = process.env.BENCH_TRACE === '1'
const steps = Number(process.env.BENCH_STEPS ?? 3)
const jobsOnly = process.env.BENCH_ONLY === 'jobs'
const serverArgs = ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dataDir]
if (databaseUrl) serverArgs.push('--database-url', databaseUrl)
const server = spawn(serverBin, serverArgs, {
  env: {
    ...process.env,
    BALSAM_TELEMETRY__LOG_FILTER: 'warn',
    BALSAM_WEB__DIST_DIR: resolve(process.env.BENCH_WEB_DIST ?? join(root, 'web/dist')),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})
/** Thrown to skip the rest of the run (BENCH_ONLY). */
class Done {}
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink']
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
  for (let round = 0; round < (jobsOnly ? 0 : 3); round += 1) {
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
  if (!jobsOnly) report('login → dashboard complete (every API call answered), median of 3', `${times[1]} ms (${times.join(', ')})`)
  if (!jobsOnly) report('API bytes for that (response bodies, after compression)', `${(bytes / 1024).toFixed(1)} kB in ${calls.length} GETs`)
  if (!jobsOnly) log(calls.map(([p, b]) => `  ${p} ${b} B`).join('\n'))

  // ---- Jobs: first page, next page, sort by Id -------------------------------------------
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  // What happens between navigation and the first row (performance.now() times): the socket's
  // creation, open and first frame (the welcome), and the first animation frame with a row.
  await context.addInitScript(() => {
    const tl = { wsNew: null, wsOpen: null, welcome: null, firstRow: null }
    window.__firstPage = tl
    const Native = window.WebSocket
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args)
        tl.wsNew ??= performance.now()
        this.addEventListener('open', () => (tl.wsOpen ??= performance.now()))
        this.addEventListener('message', () => (tl.welcome ??= performance.now()))
      }
    }
    const watch = new MutationObserver(() => {
      if (document.querySelector('[data-testid="jobs-table"] tbody tr[data-job-id]') === null) return
      watch.disconnect()
      requestAnimationFrame((t) => (tl.firstRow = t))
    })
    watch.observe(document, { subtree: true, childList: true })
  })
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
  const stepCalls = []
  page.on('requestfinished', (r) => {
    if (!new URL(r.url()).pathname.startsWith('/api/v1/')) return
    const t = r.timing()
    stepCalls.push({ url: r.url().replace(base, ''), start: t.startTime, end: t.startTime + t.responseEnd })
  })
  const cdp = profile ? await context.newCDPSession(page) : null
  if (cdp) await cdp.send('Profiler.enable')
  // In the page: when the click event fired, when the API calls started and ended, and the
  // first animation frame after the table's first row changed (performance.now() times).
  const armTimeline = () =>
    page.evaluate(() => {
      const tl = { click: null, shown: null, calls: [] }
      window.__step = tl
      document.addEventListener('click', (e) => (tl.click ??= e.timeStamp), { capture: true, once: true })
      const table = document.querySelector('[data-testid="jobs-table"]')
      const first = () => table?.querySelector('tbody tr[data-job-id]')?.getAttribute('data-job-id')
      const before = first()
      const seen = new MutationObserver(() => {
        if (first() === before) return
        seen.disconnect()
        requestAnimationFrame((t) => (tl.shown = t))
      })
      if (table) seen.observe(table, { subtree: true, childList: true, attributes: true })
      new PerformanceObserver((list) => {
        for (const e of list.getEntries())
          if (e.name.includes('/api/v1/')) tl.calls.push([e.startTime, e.responseEnd])
      }).observe({ type: 'resource' })
    })
  const inPage = []
  const firstPages = []
  const until = async (action, name) => {
    const before = await firstRow()
    if (name !== 'first page') await armTimeline()
    stepCalls.length = 0
    if (cdp) await cdp.send('Profiler.start')
    if (tracing) await browser.startTracing(page, { categories: TRACE_CATEGORIES })
    const t0 = Date.now()
    await action()
    // A first page is a new document: any row is its own (the one before may show the same job).
    if (name === 'first page') while ((await firstRow()) === '') await sleep(5)
    else while ((await firstRow()) === before) await sleep(5)
    const took = Date.now() - t0
    if (name === 'first page') {
      await page.waitForFunction(() => window.__firstPage?.firstRow !== null)
      const tl = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0]
        const res = performance.getEntriesByType('resource')
        const scripts = res.filter((e) => e.initiatorType === 'script' || e.name.endsWith('.js'))
        const gets = res.filter((e) => e.name.includes('/api/v1/'))
        const list = gets.find((e) => /\/api\/v1\/jobs\/\?.*offset=/.test(e.name))
        const view = scripts.find((e) => /\/JobsView-[^/]*\.js$/.test(e.name))
        return {
          html: nav.responseEnd,
          entry: scripts.find((e) => /\/index-[^/]*\.js$/.test(e.name))?.responseEnd,
          viewChunk: view?.startTime,
          scripts: Math.max(...scripts.map((e) => e.responseEnd)),
          loaded: nav.domContentLoadedEventEnd,
          ...window.__firstPage,
          firstGet: Math.min(...gets.map((e) => e.startTime)),
          listStart: list?.startTime ?? Number.NaN,
          listEnd: list?.responseEnd ?? Number.NaN,
        }
      })
      firstPages.push(tl)
      const f = (k) => (tl[k] ?? Number.NaN).toFixed(0)
      log(
        `  first page in the page (ms after navigation start): HTML ${f('html')}, entry script ${f('entry')}, view chunk asked ${f('viewChunk')}, all scripts ${f('scripts')}, DOMContentLoaded ${f('loaded')}, socket new ${f('wsNew')} → open ${f('wsOpen')} → welcome ${f('welcome')}, first GET ${f('firstGet')}, list GET ${f('listStart')} → ${f('listEnd')}, first row frame ${f('firstRow')}`,
      )
    } else {
      await sleep(100)
      const tl = await page.evaluate(() => window.__step)
      const call = tl.calls[0] ?? [Number.NaN, Number.NaN]
      inPage.push({ name, total: tl.shown - tl.click, toFetch: call[0] - tl.click, fetch: call[1] - call[0], render: tl.shown - call[1] })
      log(`  ${name} in the page: click → shown ${(tl.shown - tl.click).toFixed(0)} ms (click → GET ${(call[0] - tl.click).toFixed(0)}, GET ${(call[1] - call[0]).toFixed(0)}, answer → shown ${(tl.shown - call[1]).toFixed(0)})`)
    }
    if (tracing) {
      const trace = JSON.parse((await browser.stopTracing()).toString('utf8'))
      log(`  ${name}: renderer main thread self time by event: ${mainThreadSelfTime(trace, 10).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join('; ')}`)
    }
    if (cdp) {
      const { profile: p } = await cdp.send('Profiler.stop')
      if (profileDir) {
        mkdirSync(profileDir, { recursive: true })
        const file = join(profileDir, `${name.replaceAll(' ', '-')}-${profiled++}.cpuprofile`)
        writeFileSync(file, JSON.stringify(p))
      }
      await sleep(300)
      log(`  ${name}: ${took} ms; API calls (ms after the click: start → end):`)
      for (const c of stepCalls) log(`    ${(c.start - t0).toFixed(0)} → ${(c.end - t0).toFixed(0)} ${c.url}`)
      log(`    top self time: ${topSelfTime(p, 8).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join('; ')}`)
    }
    return took
  }
  const first = []
  const next = []
  const sort = []
  for (let i = 0; i < steps; i += 1) {
    first.push(await until(() => page.goto(`${base}/jobs?per=25&r=${i}`), 'first page'))
    next.push(await until(() => page.getByRole('button', { name: 'Next page' }).click(), 'next page'))
    sort.push(await until(() => page.getByRole('columnheader', { name: 'Id' }).click(), 'sort by Id'))
  }
  const med = median
  report(`Jobs first page (navigation → first row shown), median of ${steps}`, `${med(first)} ms (${first.join(', ')})`)
  const fm = (k) => med(firstPages.map((tl) => tl[k])).toFixed(0)
  report(
    `Jobs first page inside the page (ms after navigation start), medians of ${steps}`,
    `entry script ${fm('entry')}, view chunk asked ${fm('viewChunk')}, all scripts ${fm('scripts')}, socket created ${fm('wsNew')}, open ${fm('wsOpen')}, welcome ${fm('welcome')}, list GET ${fm('listStart')} → ${fm('listEnd')}, first row frame ${fm('firstRow')}`,
  )
  report(`Jobs next page (click → first row changed), median of ${steps}`, `${med(next)} ms (${next.join(', ')})`)
  report(`Jobs sort by Id (click → first row changed), median of ${steps}`, `${med(sort)} ms (${sort.join(', ')})`)
  for (const name of ['next page', 'sort by Id']) {
    const taken = inPage.filter((x) => x.name === name)
    const m = (k) => med(taken.map((x) => x[k])).toFixed(0)
    report(
      `Jobs ${name} inside the page (click event → first frame showing the new row), median of ${steps}`,
      `${m('total')} ms (${taken.map((x) => x.total.toFixed(0)).join(', ')}; click → GET ${m('toFetch')}, GET ${m('fetch')}, answer → frame ${m('render')})`,
    )
  }

  // ---- heap after a sustained stream -----------------------------------------------------
  if (jobsOnly) {
    await browser.close()
    throw new Done()
  }
  await page.goto(`${base}/`)
  await page.locator('[data-testid="throughput-summary"]').waitFor()
  const heap = () =>
    page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      return performance.memory.usedJSHeapSize
    })
  const heapCdp = await context.newCDPSession(page)
  const gc = () => heapCdp.send('HeapProfiler.collectGarbage')
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
} catch (e) {
  if (!(e instanceof Done)) throw e
} finally {
  server.kill('SIGTERM')
}
console.log(`\nbalsam web at a million jobs (${backend}, ${dataDir}); load average at the end ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
console.log(results.join('\n'))
