// The seed's client data flow, read off the browser's own network log: the socket is welcomed
// before the first GET, each GET goes out once in a page's life, and live job changes cost
// no GET at all (the state counts follow the stream instead of being polled).
import { expect, test, type APIRequestContext, type Page, type Request } from '@playwright/test'

import { createJobs, logInThroughUi, patchJobs, seedApp } from './fixtures'

/**
 * How long jobs change while the test watches for GETs, per view: 15 s on each of the two
 * views, the 30 s in all. (The old client asked for `/jobs/state-counts` about a
 * second after each batch of job events, so with a change every 400 ms any poll shows
 * within the first second or two; `BALSAM_E2E_LIVE_MS` shortens it while working.)
 */
const LIVE_MS = Number(process.env.BALSAM_E2E_LIVE_MS ?? 15_000)

interface NetEntry {
  kind: 'welcome' | 'get'
  url: string
  at: number
}

/** Records every API GET and every `welcome` frame, in the order the browser saw them. */
function recordNetwork(page: Page): NetEntry[] {
  const log: NetEntry[] = []
  page.on('request', (request: Request) => {
    const url = new URL(request.url())
    if (request.method() === 'GET' && url.pathname.startsWith('/api/v1/')) {
      log.push({ kind: 'get', url: url.pathname + url.search, at: Date.now() })
    }
  })
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string' && payload.includes('"op":"welcome"')) {
        log.push({ kind: 'welcome', url: socket.url(), at: Date.now() })
      }
    })
  })
  return log
}

const gets = (log: NetEntry[]) => log.filter((entry) => entry.kind === 'get').map((e) => e.url)

function repeated(urls: string[]): string[] {
  const seen = new Set<string>()
  return urls.filter((url) => (seen.has(url) ? true : (seen.add(url), false)))
}

async function seedJobs(page: Page, request: APIRequestContext) {
  const { user, token, site, app } = await seedApp(request, 'flow-site', 'FlowApp')
  const jobs = await createJobs(request, token, app.id, 12, { exp: 'flow' })
  return { user, token, site, app, jobs }
}

async function visit(page: Page, name: string, heading: RegExp) {
  await page
    .getByRole('navigation', { name: 'Main navigation' })
    .getByRole('link', { name, exact: true })
    .click()
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible()
}

test('the socket is welcomed before the first GET, and no GET goes out twice in a page life', async ({
  page,
  request,
}) => {
  const { user } = await seedJobs(page, request)
  await page.goto('/login')
  const log = recordNetwork(page)
  await logInThroughUi(page, user)
  await expect(page.getByTestId('total-jobs')).toContainText('12 jobs')

  for (const [name, heading] of [
    ['Jobs', /^Jobs/],
    ['BatchJobs', /^BatchJobs/],
    ['Sessions', /^Sessions/],
    ['Sites', /^Sites/],
    ['Apps', /^Apps/],
    ['Dashboard', /^Dashboard/],
    ['Jobs', /^Jobs/],
    ['Dashboard', /^Dashboard/],
  ] as const) {
    await visit(page, name, heading)
  }
  await page.waitForTimeout(1_000)

  const first = log.findIndex((entry) => entry.kind === 'get')
  const welcome = log.findIndex((entry) => entry.kind === 'welcome')
  expect(welcome, 'a welcome arrived').toBeGreaterThanOrEqual(0)
  expect(welcome, `the first GET (${log[first]?.url}) went out before the welcome`).toBeLessThan(
    first,
  )
  expect(repeated(gets(log)), 'GETs issued twice').toEqual([])
  // The seed's initial fetches, each once.
  const urls = gets(log)
  for (const path of [
    '/api/v1/auth/password/me',
    '/api/v1/sites/',
    '/api/v1/apps/',
    '/api/v1/sessions/',
    '/api/v1/jobs/state-counts',
  ]) {
    expect(
      urls.filter((url) => url.split('?')[0] === path),
      path,
    ).toHaveLength(1)
  }

  // A reload is a new page life: again the welcome first, and still every GET once.
  log.length = 0
  await page.goto('/jobs')
  await expect(page.getByRole('heading', { level: 1, name: /^Jobs/ })).toBeVisible()
  await expect(page.getByRole('row').nth(12)).toBeVisible()
  await page.waitForTimeout(1_000)
  expect(log[0]?.kind, `first: ${log[0]?.url}`).toBe('welcome')
  expect(repeated(gets(log))).toEqual([])
})

const NEXT: Record<string, string> = {
  STAGED_IN: 'PREPROCESSED',
  PREPROCESSED: 'RUNNING',
  RUNNING: 'RUN_DONE',
  RUN_DONE: 'POSTPROCESSED',
  POSTPROCESSED: 'JOB_FINISHED',
  RUN_ERROR: 'RESTART_READY',
  RESTART_READY: 'RUNNING',
}

const GROUP: Record<string, string> = {
  CREATED: 'waiting',
  AWAITING_PARENTS: 'waiting',
  READY: 'waiting',
  STAGED_IN: 'waiting',
  PREPROCESSED: 'runnable',
  RESTART_READY: 'runnable',
  RUNNING: 'running',
  RUN_DONE: 'finishing',
  POSTPROCESSED: 'finishing',
  STAGED_OUT: 'finishing',
  JOB_FINISHED: 'done',
  RUN_ERROR: 'trouble',
  RUN_TIMEOUT: 'trouble',
  FAILED: 'failed',
}

test('live job changes cost no GET on the dashboard and on Jobs; the counts stay true', async ({
  page,
  request,
}) => {
  test.setTimeout(60_000 + 2 * LIVE_MS)
  const { user, token, app, jobs } = await seedJobs(page, request)
  const log = recordNetwork(page)
  await page.goto('/login')
  await logInThroughUi(page, user)
  await expect(page.getByTestId('total-jobs')).toContainText('12 jobs')
  await visit(page, 'Jobs', /^Jobs/)
  await expect(page.getByRole('row').nth(12)).toBeVisible()
  await visit(page, 'Dashboard', /^Dashboard/)
  await page.waitForTimeout(1_000)
  const before = gets(log).length

  // Jobs move along the pipeline (some fail and are retried), new ones are created.
  const states = new Map(jobs.map((job) => [job.id, job.state]))
  let round = 0
  async function changeFor(ms: number) {
    const end = Date.now() + ms
    while (Date.now() < end) {
      round += 1
      const moving = [...states].filter(([, state]) => NEXT[state] !== undefined).slice(0, 4)
      const patch = moving.map(([id, state]) => {
        const to = state === 'RUNNING' && id % 5 === round % 5 ? 'RUN_ERROR' : NEXT[state]!
        states.set(id, to)
        return { id, state: to }
      })
      if (patch.length > 0) await patchJobs(request, token, patch)
      if (round % 5 === 0) {
        for (const job of await createJobs(request, token, app.id, 2)) states.set(job.id, job.state)
      }
      await page.waitForTimeout(400)
    }
  }

  await changeFor(LIVE_MS)
  await visit(page, 'Jobs', /^Jobs/)
  await changeFor(LIVE_MS)
  await visit(page, 'Dashboard', /^Dashboard/)
  await page.waitForTimeout(1_500)

  expect(gets(log).slice(before), 'GETs while jobs changed').toEqual([])

  // The counts the page shows, moved by events alone, are the server's.
  const response = await request.get('/api/v1/jobs/state-counts', {
    headers: { Authorization: `Bearer ${token}` },
  })
  const rows = (await response.json()) as { site_id: number; counts: Record<string, number> }[]
  const groups: Record<string, number> = {}
  let total = 0
  for (const row of rows) {
    for (const [state, n] of Object.entries(row.counts)) {
      groups[GROUP[state]!] = (groups[GROUP[state]!] ?? 0) + n
      total += n
    }
  }
  expect(total).toBe(states.size)
  await expect(page.getByTestId('total-jobs')).toContainText(`${total} jobs`)
  const card = page.locator('[data-site="flow-site"]')
  for (const group of new Set(Object.values(GROUP))) {
    await expect(card.locator(`[data-group="${group}"] [data-testid="group-count"]`)).toHaveText(
      String(groups[group] ?? 0),
    )
  }
})
