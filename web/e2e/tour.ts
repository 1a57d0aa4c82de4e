// A lived-in account for screenshots and UI walks: two Sites, Apps with and without
// transfers, jobs across every state group, BatchJobs in each scheduler state, a Session.
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import {
  apiToken,
  createApp,
  createBatchJob,
  createJobs,
  createSession,
  createSite,
  naiveUtc,
  patchJobs,
  registerUser,
  SCHEDULER_SETTINGS,
  updateBatchJob,
  type TestUser,
} from './fixtures'

/** Where every view's screenshot goes (kept as a test artifact). */
export const SCREENSHOT_DIR = fileURLToPath(
  new URL('../test-results/screenshots/', import.meta.url),
)

export async function screenshot(
  page: Page,
  testInfo: TestInfo,
  name: string,
  fullPage = true,
): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = `${SCREENSHOT_DIR}${name}.png`
  await page.screenshot({ path, fullPage, animations: 'disabled' })
  await testInfo.attach(name, { path, contentType: 'image/png' })
}

export interface Tour {
  user: TestUser
  token: string
  siteId: number
  jobIds: number[]
  runningBatchJobId: number
  queuedBatchJobId: number
}

export async function seedTour(request: APIRequestContext): Promise<Tour> {
  const user = await registerUser(request)
  const token = await apiToken(request, user)
  const site = await createSite(request, token, 'polaris', {
    ...SCHEDULER_SETTINGS,
    transfer_locations: { archive: 'globus://00000000-0000-0000-0000-000000000001' },
  })
  const other = await createSite(request, token, 'theta')
  const hello = await createApp(request, token, site.id, 'Hello')
  await createApp(request, token, other.id, 'Analyze')
  const simulate = await request.post('/api/v1/apps/', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      site_id: site.id,
      name: 'Simulate',
      serialized_class: '',
      source_code: '',
      description: 'A simulation with input and output files',
      parameters: { steps: { required: true, default: null, help: 'time steps' } },
      transfers: {
        input: {
          required: true,
          direction: 'in',
          local_path: 'input.dat',
          description: 'initial state',
          recursive: false,
        },
        output: {
          required: false,
          direction: 'out',
          local_path: 'output.dat',
          description: 'final state',
          recursive: false,
        },
      },
    },
  })
  expect(simulate.status(), await simulate.text()).toBe(201)
  const simulateApp = (await simulate.json()) as { id: number }

  const running = await createBatchJob(request, token, site.id, 8)
  await updateBatchJob(request, token, running.id, {
    state: 'running',
    scheduler_id: 4711,
    start_time: naiveUtc(Date.now() - 25 * 60_000),
  })
  const queued = await createBatchJob(request, token, site.id)
  await updateBatchJob(request, token, queued.id, { state: 'queued', scheduler_id: 4712 })
  const failed = await createBatchJob(request, token, site.id)
  await updateBatchJob(request, token, failed.id, {
    state: 'submit_failed',
    status_info: { error: 'qsub: Job exceeds queue resource limits' },
  })
  await createBatchJob(request, token, site.id)
  await createSession(request, token, site.id, running.id)

  const jobs = await createJobs(request, token, hello.id, 40, { exp: 'tour' })
  const at = (minutesAgo: number) => naiveUtc(Date.now() - minutesAgo * 60_000)
  const ids = jobs.map((job) => job.id)
  // Ran and finished over the last 20 minutes, in this BatchJob.
  await patchJobs(
    request,
    token,
    ids.slice(0, 16).map((id, i) => ({
      id,
      batch_job_id: running.id,
      state: 'RUNNING',
      state_timestamp: at(20 - i),
    })),
  )
  await patchJobs(
    request,
    token,
    ids.slice(0, 12).map((id, i) => ({ id, state: 'RUN_DONE', state_timestamp: at(14 - i) })),
  )
  await patchJobs(
    request,
    token,
    ids.slice(0, 10).map((id, i) => ({ id, state: 'JOB_FINISHED', state_timestamp: at(13 - i) })),
  )
  await patchJobs(request, token, [
    { id: ids[10], state: 'RUN_ERROR', state_timestamp: at(3) },
    { id: ids[11], state: 'FAILED', state_timestamp: at(2) },
  ])
  await patchJobs(
    request,
    token,
    ids.slice(20, 24).map((id) => ({ id, state: 'RESTART_READY' })),
  )
  const withFiles = await request.post('/api/v1/jobs/', {
    headers: { Authorization: `Bearer ${token}` },
    data: [0, 1, 2].map((i) => ({
      workdir: `tour/simulate/${i}`,
      app_id: simulateApp.id,
      tags: { exp: 'tour', kind: 'sim' },
      serialized_parameters: '',
      data: {},
      num_nodes: 2,
      ranks_per_node: 4,
      threads_per_rank: 1,
      threads_per_core: 1,
      launch_params: {},
      gpus_per_rank: 0,
      node_packing_count: 1,
      wall_time_min: 10,
      parent_ids: [],
      transfers: { input: { location_alias: 'archive', path: `/data/in-${i}.dat` } },
    })),
  })
  expect(withFiles.status(), await withFiles.text()).toBe(201)
  return {
    user,
    token,
    siteId: site.id,
    jobIds: ids,
    runningBatchJobId: running.id,
    queuedBatchJobId: queued.id,
  }
}
