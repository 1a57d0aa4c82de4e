import AxeBuilder from '@axe-core/playwright'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

import {
  createBatchJob,
  createJobs,
  logInThroughUi,
  naiveUtc,
  openWithApp,
  patchJobs,
  SCHEDULER_SETTINGS,
  seedApp,
  updateBatchJob,
} from './fixtures'

async function expectNoSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  const serious = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  )
  expect(serious.map((v) => `${what}: ${v.id} ${v.nodes[0]?.target.join(' ')}`)).toEqual([])
}

const setUp = (page: Page, request: APIRequestContext, to: string) =>
  openWithApp(page, request, to, SCHEDULER_SETTINGS)

test('a BatchJob’s page follows it through the queue, with its jobs, timeline and utilisation', async ({
  page,
  request,
}) => {
  const { user, token, site, app } = await seedApp(
    request,
    'bj-detail',
    'Hello',
    SCHEDULER_SETTINGS,
  )
  const bj = await createBatchJob(request, token, site.id)
  await page.goto(`/login?redirect=/batch-jobs/${bj.id}`)
  await logInThroughUi(page, user)
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')

  await expect(page.getByRole('heading', { name: `BatchJob ${bj.id}` })).toBeVisible()
  await expect(page.getByTestId('batch-job-state')).toHaveText('pending submission')
  await expect(page.getByRole('button', { name: 'Delete' })).toBeVisible()
  await expect(page.getByText('No job has run in it yet.')).toBeVisible()

  await updateBatchJob(request, token, bj.id, { state: 'queued', scheduler_id: 4242 })
  const history = page.getByTestId('queue-history')
  await expect(page.getByTestId('batch-job-state')).toHaveText('queued')
  await expect(history).toContainText('scheduler id 4242')
  await expect(history).toContainText('(seen by this page)')
  await expect(page.getByRole('button', { name: 'Cancel BatchJob' })).toBeVisible()

  const started = Date.now() - 5 * 60_000
  await updateBatchJob(request, token, bj.id, { state: 'running', start_time: naiveUtc(started) })
  await expect(page.getByTestId('batch-job-state')).toHaveText('running')
  await expect(history).toContainText('(start time)')

  // A launcher in it takes two jobs and runs them.
  const jobs = await createJobs(request, token, app.id, 2)
  await patchJobs(
    request,
    token,
    jobs.map((job) => ({ id: job.id, batch_job_id: bj.id, state: 'RUNNING' })),
  )
  await expect(page.getByTestId('batch-job-job-count')).toHaveText('2 jobs')
  const timeline = page.getByTestId('batch-job-timeline')
  await expect(timeline).toContainText(`job ${jobs[0]!.id}`)
  await expect(timeline).toContainText('STAGED_IN → RUNNING')
  await expect(page.getByTestId('utilization-summary')).toContainText(
    'Now: 2 nodes busy of 2 nodes allocated',
  )
  await patchJobs(request, token, [{ id: jobs[0]!.id, state: 'RUN_DONE' }])
  await expect(timeline).toContainText('RUNNING → RUN_DONE')
  await expect(page.getByTestId('batch-job-jobs')).toContainText('RUN_DONE')

  await page.getByRole('button', { name: 'Cancel BatchJob' }).click()
  const dialog = page.getByTestId('confirm-dialog')
  await expect(dialog).toContainText('interrupting the jobs running in it')
  await dialog.getByRole('button', { name: 'Cancel BatchJob' }).click()
  await expect(page.getByTestId('batch-job-state')).toHaveText('pending deletion')
  await expect(page.getByRole('button', { name: 'Cancel BatchJob' })).toHaveCount(0)
  const stored = await request.get(`/api/v1/batch-jobs/${bj.id}`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  expect(((await stored.json()) as { state: string }).state).toBe('pending_deletion')
  await expectNoSeriousViolations(page, 'BatchJob page')
})

test('a new BatchJob is checked against the Site’s queues, submitted, and deletable until submitted', async ({
  page,
  request,
}) => {
  const { site } = await setUp(page, request, '/batch-jobs')
  await page.getByRole('button', { name: 'New BatchJob' }).click()
  const dialog = page.getByTestId('submit-batch-job-dialog')
  await expect(dialog.getByLabel('Queue')).toBeVisible()
  await expect(dialog).toContainText(
    'balsam queue submit -n 1 -t 30 -q debug -A e2e-project -j mpi',
  )

  await dialog.getByLabel('Nodes').fill('9')
  await expect(dialog).toContainText("9 exceeds the queue's 8 nodes")
  await expect(page.getByTestId('submit-batch-job')).toBeDisabled()
  await dialog.getByLabel('Nodes').fill('4')
  await dialog.getByLabel('Wall time (minutes)').fill('45')
  await dialog.getByLabel('Only jobs tagged (key=value)').fill('exp=e2e')
  await dialog.getByLabel('Only jobs tagged (key=value)').press('Enter')
  await expect(dialog).toContainText('-n 4 -t 45 -q debug -A e2e-project -j mpi --tag exp=e2e')
  await expectNoSeriousViolations(page, 'submit dialog')
  await page.getByTestId('submit-batch-job').click()

  await expect(page).toHaveURL(/\/batch-jobs\/\d+$/)
  const id = Number(new URL(page.url()).pathname.split('/').pop())
  await expect(page.getByRole('heading', { name: `BatchJob ${id}` })).toBeVisible()
  await expect(page.getByTestId('batch-job-state')).toHaveText('pending submission')
  await expect(page.getByText(`on ${site.name}`)).toBeVisible()
  await expect(page.getByText('exp=e2e')).toBeVisible()

  await page.getByRole('button', { name: 'Delete' }).click()
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Delete BatchJob' }).click()
  await expect(page).toHaveURL(/\/batch-jobs$/)
  await expect(page.getByText('No BatchJobs yet')).toBeVisible()
})

test('“replace all tags” replaces them on the selected jobs, saying what goes', async ({
  page,
  request,
}) => {
  const { token, app } = await setUp(page, request, '/jobs')
  const jobs = await createJobs(request, token, app.id, 3, { exp: 'a', run: '1' })
  const table = page.getByTestId('jobs-table')
  for (const job of jobs) await expect(table).toContainText(job.workdir)

  await table.getByRole('row').first().getByRole('checkbox').check()
  await page.getByRole('button', { name: 'Edit tags' }).click()
  const dialog = page.getByTestId('job-tags-dialog')
  await dialog.getByLabel('Replace all tags').check()
  await expect(dialog).toContainText('Tags are replaced as a whole')
  await dialog.getByRole('button', { name: 'Remove tag 2' }).click()
  await dialog.getByLabel('Tag 1 value').fill('b')
  await expect(dialog.getByTestId('tag-changes')).toContainText('Removes run=1 from all 3 jobs.')
  await expect(dialog.getByTestId('tag-changes')).toContainText('Changes exp to b on all 3 jobs.')
  await expectNoSeriousViolations(page, 'tags dialog')
  await page.getByTestId('confirm-job-tags').click()

  for (const job of jobs) {
    const row = table.getByRole('row').filter({ hasText: job.workdir })
    await expect(row).toContainText('exp=b')
    await expect(row).not.toContainText('run=1')
  }
  await page.goto('/jobs?tag=exp:b')
  await expect(page.getByTestId('job-count')).toHaveText('3 jobs match')
})

test('the dashboard charts allocated against busy nodes', async ({ page, request }) => {
  const { token, site, app } = await setUp(page, request, '/')
  const bj = await createBatchJob(request, token, site.id)
  await updateBatchJob(request, token, bj.id, {
    state: 'running',
    scheduler_id: 7,
    start_time: naiveUtc(Date.now() - 10 * 60_000),
  })
  const jobs = await createJobs(request, token, app.id, 2)
  await patchJobs(
    request,
    token,
    jobs.map((job) => ({ id: job.id, batch_job_id: bj.id, state: 'RUNNING' })),
  )
  const summary = page.getByTestId('utilization-summary')
  await expect(summary).toContainText('Now: 2 nodes busy of 2 nodes allocated')
  await patchJobs(request, token, [{ id: jobs[0]!.id, state: 'RUN_DONE' }])
  await expect(summary).toContainText('Now: 1 node busy of 2 nodes allocated')
})
