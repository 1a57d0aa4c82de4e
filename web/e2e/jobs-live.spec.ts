import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

import { createJobs, openWithApp, setJobStates } from './fixtures'
import { controlStream } from './streamControl'

const setUp = (page: Page, request: APIRequestContext, to: string) => openWithApp(page, request, to)

function groupCount(page: Page, scope: string, group: string) {
  return page.getByTestId(scope).locator(`[data-group="${group}"] [data-testid="group-count"]`)
}

test('dashboard state counts and charts follow jobs live', async ({ page, request }) => {
  // Every API GET the page sends, by path.
  const gets: string[] = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (r.method() === 'GET' && url.pathname.startsWith('/api/v1/')) {
      gets.push(url.pathname.slice('/api/v1'.length) + url.search)
    }
  })
  const { token, app, site } = await setUp(page, request, '/')
  const card = page.locator(`[data-testid="site-health"][data-site="${site.name}"]`)
  await expect(card).toContainText('No jobs at this Site yet')

  const jobs = await createJobs(request, token, app.id, 3)
  await expect(groupCount(page, 'total-counts', 'waiting')).toHaveText('3')
  await expect(card).toContainText('3 jobs')

  await setJobStates(request, token, [jobs[0]!.id, jobs[1]!.id], 'RUNNING')
  await expect(groupCount(page, 'total-counts', 'running')).toHaveText('2')
  await expect(groupCount(page, 'total-counts', 'waiting')).toHaveText('1')

  await setJobStates(request, token, [jobs[0]!.id], 'JOB_FINISHED')
  await setJobStates(request, token, [jobs[1]!.id], 'FAILED')
  await expect(groupCount(page, 'total-counts', 'done')).toHaveText('1')
  await expect(page.getByTestId('attention')).toContainText('1 job FAILED')
  // The charts came from one aggregate each, then moved with the stream: no LogEvents fetched.
  await expect(page.getByTestId('throughput-summary')).toContainText(
    '1 job finished in the last hour',
  )
  await expect(page.getByTestId('utilization-summary')).toContainText('Now: 0 nodes busy')
  await setJobStates(request, token, [jobs[2]!.id], 'RUNNING')
  await expect(page.getByTestId('utilization-summary')).toContainText('Now: 1 node busy')
  expect(gets.filter((path) => path.startsWith('/events/'))).toEqual([])
  expect(gets.filter((path) => path.startsWith('/aggregates/'))).toEqual([
    '/aggregates/throughput?window=hour',
    '/aggregates/utilization?window=hour',
  ])

  // What the stream made of the charts is what the server's aggregate says after a reload.
  const aggregate = (await (
    await request.get('/api/v1/aggregates/throughput?window=hour', {
      headers: { Authorization: `Bearer ${token}` },
    })
  ).json()) as { total: number }
  expect(aggregate.total).toBe(1)
  await page.reload()
  await expect(page.getByTestId('throughput-summary')).toContainText(
    '1 job finished in the last hour',
  )
  await expect(page.getByTestId('utilization-summary')).toContainText('Now: 1 node busy')

  // Another window: its aggregate, once; the choice is in the URL.
  await page.getByTestId('chart-window').getByRole('button', { name: '24 hours' }).click()
  await expect(page).toHaveURL(/window=day/)
  await expect(page.getByTestId('throughput-summary')).toContainText(
    '1 job finished in the last 24 hours',
  )
  await page.screenshot({
    path: 'test-results/screenshots/dashboard-charts-day.png',
    fullPage: true,
  })
})

test('the Jobs table updates rows in place and takes in new jobs live', async ({
  page,
  request,
}) => {
  const { token, app } = await setUp(page, request, '/jobs')
  await expect(page.getByText('No jobs yet')).toBeVisible()

  const [first] = await createJobs(request, token, app.id, 1, { exp: 'a' })
  const table = page.getByTestId('jobs-table')
  const firstRow = table.getByRole('row').filter({ hasText: first!.workdir })
  await expect(firstRow).toContainText('STAGED_IN')

  await setJobStates(request, token, [first!.id], 'RUNNING')
  await expect(firstRow).toContainText('RUNNING')

  const more = await createJobs(request, token, app.id, 4, { exp: 'b' })
  for (const job of more) await expect(table).toContainText(job.workdir)
  await expect(page.getByTestId('job-count')).toHaveText('5 jobs')
})

test('filters live in the URL, and retry says how many jobs it touches', async ({
  page,
  request,
}) => {
  const { token, app } = await setUp(page, request, '/jobs')
  const jobs = await createJobs(request, token, app.id, 6, { exp: 'x' })
  await setJobStates(
    request,
    token,
    jobs.slice(0, 3).map((j) => j.id),
    'RUN_ERROR',
  )

  await page.goto('/jobs?state=RUN_ERROR')
  const table = page.getByTestId('jobs-table')
  await expect(page.getByTestId('job-count')).toHaveText('3 jobs match')
  await expect(table.getByRole('row')).toHaveCount(4) // header + 3

  await table.getByRole('row').first().getByRole('checkbox').check()
  await expect(page.getByTestId('selection')).toHaveText('3 jobs selected')
  await page.getByRole('button', { name: 'Retry', exact: true }).click()
  const dialog = page.getByTestId('job-action-dialog')
  await expect(dialog).toContainText('Retry 3 jobs?')
  await expect(dialog).toContainText('RESTART_READY')
  await page.getByTestId('confirm-job-action').click()

  // They leave the RUN_ERROR filter as their events arrive.
  await expect(page.getByTestId('job-count')).toHaveText('0 jobs match')
  await page.goto('/jobs?state=RESTART_READY')
  await expect(page.getByTestId('job-count')).toHaveText('3 jobs match')
})

test('the Jobs table resumes after a dropped socket with no gap', async ({ page, request }) => {
  const stream = await controlStream(page)
  const { token, app } = await setUp(page, request, '/jobs')
  const [job] = await createJobs(request, token, app.id, 1)
  const table = page.getByTestId('jobs-table')
  await expect(table).toContainText(job!.workdir)
  let jobGets = 0
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/jobs/') jobGets += 1
  })

  await stream.goOffline(4008)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'reconnecting')
  await setJobStates(request, token, [job!.id], 'RUNNING')
  const later = await createJobs(request, token, app.id, 2)
  await setJobStates(request, token, [later[0]!.id], 'FAILED')

  stream.goOnline()
  await indicator.click()
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  const row = (workdir: string) => table.getByRole('row').filter({ hasText: workdir })
  await expect(row(job!.workdir)).toContainText('RUNNING')
  await expect(row(later[0]!.workdir)).toContainText('FAILED')
  await expect(row(later[1]!.workdir)).toContainText('STAGED_IN')
  expect(stream.welcomes.at(-1)).toMatchObject({ resumed: true })
  expect(jobGets).toBe(0)
})

test('a job’s page shows its fields and timeline, live', async ({ page, request }) => {
  const { token, app } = await setUp(page, request, '/jobs')
  const [job] = await createJobs(request, token, app.id, 1, { exp: 'detail' })
  await page.getByRole('link', { name: String(job!.id), exact: true }).click()

  await expect(page.getByRole('heading', { name: `Job ${job!.id}` })).toBeVisible()
  await expect(page.getByText('exp=detail')).toBeVisible()
  const timeline = page.getByTestId('job-timeline')
  await expect(timeline).toContainText('CREATED → STAGED_IN')

  await setJobStates(request, token, [job!.id], 'RUNNING')
  await expect(timeline).toContainText('STAGED_IN → RUNNING')
  await expect(page.getByTestId('job-state')).toContainText('RUNNING')
})
