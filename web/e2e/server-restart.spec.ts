// A real server restart under an open page: the test runs its own balsam-server (fixed port,
// persistent data dir), stops the process, starts it again on the same database, changes
// things (deletes included) while the page's reconnect back-off is still pending, and checks
// that the page resumes from where it was (`resumed: true`), shows every change, and fetches
// nothing again.
import {
  expect,
  request as newRequest,
  test,
  type APIRequestContext,
  type Page,
} from '@playwright/test'

import {
  apiToken,
  createApp,
  createBatchJob,
  createJobs,
  createSite,
  logInThroughUi,
  patchJobs,
  registerUser,
} from './fixtures'
import { ownServer, type OwnServer } from './ownServer'
import { controlStream } from './streamControl'

let server: OwnServer
let api: APIRequestContext

test.beforeEach(async () => {
  server = await ownServer()
  await server.start()
  api = await newRequest.newContext({ baseURL: server.baseURL })
})

test.afterEach(async () => {
  await api.dispose()
  await server.dispose()
})

/** List GETs (`/api/v1/<resource>/`) and every other API GET, as the page sends them. */
function countRequests(page: Page) {
  const counts = { lists: 0, all: 0 }
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (r.method() !== 'GET' || !url.pathname.startsWith('/api/v1/')) return
    counts.all += 1
    if (/^\/api\/v1\/[a-z-]+\/$/.test(url.pathname)) counts.lists += 1
  })
  return counts
}

test('after a server restart the page resumes, shows what changed while it was down, and refetches nothing', async ({
  page,
}) => {
  test.setTimeout(90_000)
  const stream = await controlStream(page)
  const requests = countRequests(page)
  const user = await registerUser(api)
  const token = await apiToken(api, user)
  const site = await createSite(api, token, 'restart-site')
  const app = await createApp(api, token, site.id, 'Hello')
  const jobs = await createJobs(api, token, app.id, 5, { exp: 'restart' })
  await createBatchJob(api, token, site.id)

  await page.goto(`${server.baseURL}/login?redirect=${encodeURIComponent('/jobs?tag=exp:restart')}`)
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  const table = page.getByTestId('jobs-table')
  for (const job of jobs) await expect(table).toContainText(job.workdir)
  await expect(page.getByTestId('job-count')).toHaveText('5 jobs match')
  const welcomesBefore = stream.welcomes.length
  let sockets = 0
  page.on('websocket', () => (sockets += 1))
  const offlineAt = Date.now()

  // The page loses its socket and cannot get a new one until we let it (its back-off runs).
  await stream.goOffline(1001)
  await expect(indicator).toHaveAttribute('data-phase', 'reconnecting')
  await server.stop()
  await server.start()
  const before = { ...requests }

  // While its back-off is pending: updates, new jobs, a job leaving the filter, deletes.
  const [kept, running, untagged, deleted] = jobs
  await patchJobs(api, token, [
    { id: running!.id, state: 'RUNNING' },
    { id: untagged!.id, tags: { exp: 'elsewhere' } },
  ])
  const added = await createJobs(api, token, app.id, 2, { exp: 'restart' })
  const removal = await api.delete(`/api/v1/jobs/?id=${deleted!.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  expect(removal.status(), await removal.text()).toBeLessThan(300)
  const bjs = await api.get('/api/v1/batch-jobs/', {
    headers: { Authorization: `Bearer ${token}` },
  })
  const bjId = ((await bjs.json()) as { results: { id: number }[] }).results[0]!.id
  expect(
    (
      await api.delete(`/api/v1/batch-jobs/${bjId}`, {
        headers: { Authorization: `Bearer ${token}` },
      })
    ).status(),
  ).toBeLessThan(300)
  await page.waitForTimeout(300)
  await expect(table).not.toContainText(added[0]!.workdir)

  // Let the page back in: its own back-off timer reconnects (nobody clicks "retry").
  stream.goOnline()
  await expect(indicator).toHaveAttribute('data-phase', 'live', { timeout: 40_000 })
  expect(stream.welcomes.slice(welcomesBefore).at(-1)).toMatchObject({ resumed: true })
  expect(stream.hellos.at(-1)?.last_seq).toBeGreaterThan(0)

  const row = (workdir: string) => table.getByRole('row').filter({ hasText: workdir })
  await expect(row(running!.workdir)).toContainText('RUNNING')
  for (const job of added) await expect(table).toContainText(job.workdir)
  await expect(table).not.toContainText(deleted!.workdir)
  await expect(table).not.toContainText(untagged!.workdir)
  await expect(row(kept!.workdir)).toContainText('STAGED_IN')
  await expect(page.getByTestId('job-count')).toHaveText('5 jobs match')

  // Nothing was lost, so nothing was fetched again: no list GET, no burst of anything.
  await page.waitForTimeout(1_000)
  expect(requests.lists - before.lists).toBe(0)
  expect(requests.all - before.all).toBeLessThanOrEqual(1)
  // Reconnect attempts backed off (1 s, 2 s, 4 s… ±25 %) rather than hammering the server.
  const offlineSeconds = (Date.now() - offlineAt) / 1000
  expect(sockets).toBeLessThanOrEqual(Math.ceil(Math.log2(offlineSeconds + 1)) + 2)
  test.info().annotations.push({
    type: 'restart',
    description: `${sockets} socket(s) in ${offlineSeconds.toFixed(1)} s; ${requests.all - before.all} API GETs after the restart`,
  })

  // The BatchJob deleted while the page was away is gone from its store too.
  await page.getByRole('navigation').getByText('Dashboard', { exact: true }).click()
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()
  await expect(page.getByTestId('recent-batch-jobs')).toHaveCount(0)
})

test('with nothing between page and server, a restart is survived the same way', async ({
  page,
}) => {
  test.setTimeout(90_000)
  const frames: string[] = []
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push(`> ${String(f.payload).slice(0, 80)}`))
    ws.on('framereceived', (f) => frames.push(`< ${String(f.payload).slice(0, 80)}`))
  })
  const requests = countRequests(page)
  const user = await registerUser(api)
  const token = await apiToken(api, user)
  await createSite(api, token, 'before-restart')
  await page.goto(`${server.baseURL}/login?redirect=/sites`)
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('sites-table')).toContainText('before-restart')

  await server.stop()
  await expect(indicator).toHaveAttribute('data-phase', 'reconnecting')
  const before = { ...requests }
  await server.start()
  await expect(indicator).toHaveAttribute('data-phase', 'live', { timeout: 40_000 })
  const welcomes = frames.filter((f) => f.startsWith('< {"op":"welcome"'))
  expect(welcomes.at(-1)).toContain('"resumed":true')
  expect(frames.filter((f) => f.startsWith('> {"op":"hello"')).at(-1)).not.toContain(
    '"last_seq":null',
  )

  await createSite(api, token, 'after-restart')
  await expect(page.getByTestId('sites-table')).toContainText('after-restart')
  expect(requests.lists - before.lists).toBe(0)
})
