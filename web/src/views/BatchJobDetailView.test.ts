// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { cancelBatchJob, deleteBatchJob, listBatchJobs } from '@/api/batchJobs'
import type * as BatchJobsApi from '@/api/batchJobs'
import { listLogEvents } from '@/api/events'
import { listJobs } from '@/api/jobs'
import type * as JobsApi from '@/api/jobs'
import { listApps } from '@/api/apps'
import { listSites } from '@/api/sites'
import type { BatchJob, Site } from '@/api/types'
import { useBatchJobsStore } from '@/stores/batchJobs'
import { makeJob } from '@/test-support/jobFactory'
import { mountView, setUpViewTests, storeLogin } from '@/test-support/mountView'

import BatchJobDetailView from './BatchJobDetailView.vue'

vi.mock('@/api/batchJobs', async (original) => ({
  ...(await original<typeof BatchJobsApi>()),
  listBatchJobs: vi.fn(),
  cancelBatchJob: vi.fn(),
  deleteBatchJob: vi.fn(),
  createBatchJob: vi.fn(),
}))
vi.mock('@/api/jobs', async (original) => ({
  ...(await original<typeof JobsApi>()),
  listJobs: vi.fn(),
}))
vi.mock('@/api/events')
vi.mock('@/api/apps')
vi.mock('@/api/sites')
vi.mock('@/components/dashboard/UtilizationChart.vue', () => ({
  default: defineComponent({ setup: () => () => h('p', { 'data-testid': 'utilization-stub' }) }),
}))

const theta = {
  id: 1,
  name: 'theta',
  path: '/p',
  last_refresh: '2026-11-29T12:00:00',
  allowed_queues: { debug: { max_nodes: 8, max_walltime: 60, max_queued_jobs: 1 } },
  allowed_projects: ['physics'],
  optional_batch_job_params: {},
} as unknown as Site

function batchJob(state: string, overrides: Partial<BatchJob> = {}): BatchJob {
  return {
    id: 7,
    site_id: 1,
    scheduler_id: 4242,
    project: 'physics',
    queue: 'debug',
    optional_params: {},
    num_nodes: 4,
    wall_time_min: 30,
    job_mode: 'mpi',
    filter_tags: { exp: 'a' },
    partitions: null,
    state,
    status_info: {},
    start_time: '2026-11-29T10:00:00',
    end_time: null,
    ...overrides,
  }
}

async function render(rows: BatchJob[]) {
  vi.mocked(listSites).mockResolvedValue({ count: 1, results: [theta], seq: 3 })
  vi.mocked(listApps).mockResolvedValue({ count: 0, results: [], seq: 3 })
  vi.mocked(listBatchJobs).mockResolvedValue({ count: rows.length, results: rows, seq: 3 })
  vi.mocked(listJobs).mockResolvedValue({
    count: 1,
    results: [makeJob(11, 'RUNNING', { batch_job_id: 7 })],
    seq: 3,
  })
  vi.mocked(listLogEvents).mockResolvedValue({
    count: 1,
    results: [
      {
        id: 90,
        job_id: 11,
        timestamp: '2026-11-29T10:01:00',
        from_state: 'PREPROCESSED',
        to_state: 'RUNNING',
        data: {},
      },
    ],
    seq: 3,
  })
  storeLogin()
  const mounted = await mountView(BatchJobDetailView, { at: '/batch-jobs/7', props: { id: 7 } })
  await flushPromises()
  await vi.dynamicImportSettled()
  await flushPromises()
  return mounted
}

setUpViewTests()

describe('BatchJobDetailView', () => {
  it('shows the allocation, its jobs and their timeline, from the BatchJob’s own queries', async () => {
    const { wrapper } = await render([batchJob('running')])

    expect(listBatchJobs).toHaveBeenCalledWith({ id: [7] })
    expect(listJobs).toHaveBeenCalledWith(
      expect.objectContaining({ batch_job_id: 7, ordering: '-id', limit: 25, offset: 0 }),
    )
    expect(listLogEvents).toHaveBeenCalledWith(
      expect.objectContaining({ batch_job_id: 7, ordering: '-timestamp' }),
    )
    const text = wrapper.text()
    expect(text).toContain('BatchJob 7')
    expect(text).toContain('debug · physics')
    expect(text).toContain('exp=a')
    expect(wrapper.find('[data-testid="batch-job-jobs"]').text()).toContain('11')
    expect(wrapper.find('[data-testid="batch-job-job-count"]').text()).toBe('1 job')
    expect(wrapper.find('[data-testid="queue-history"]').text()).toContain('scheduler id 4242')
    expect(wrapper.find('[data-testid="utilization-stub"]').exists()).toBe(true)
  })

  it('records state changes it sees in the queue history, and cancels only while queued or running', async () => {
    const { wrapper } = await render([batchJob('queued', { start_time: null })])
    const buttons = () => wrapper.findAll('button').map((b) => b.text())
    expect(buttons()).toContain('Cancel BatchJob')
    expect(buttons()).not.toContain('Delete')

    const store = useBatchJobsStore()
    store.apply({ action: 'update', type: 'batch_job', data: batchJob('running'), seq: 4 })
    await flushPromises()
    expect(wrapper.find('[data-testid="batch-job-state"]').text()).toBe('running')
    expect(store.seen.get(7)?.map((s) => s.state)).toEqual(['queued', 'running'])
    expect(wrapper.find('[data-testid="queue-history"]').text()).toContain('(start time)')

    vi.mocked(cancelBatchJob).mockResolvedValue(batchJob('pending_deletion'))
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Cancel BatchJob')
      ?.trigger('click')
    await flushPromises()
    expect(document.querySelector('[data-testid="confirm-dialog"]')?.textContent).toContain(
      'interrupting the jobs running in it',
    )
    ;(document.querySelector('[data-testid="confirm-action"]') as HTMLElement).click()
    await flushPromises()
    expect(cancelBatchJob).toHaveBeenCalledWith(7)
    expect(wrapper.find('[data-testid="batch-job-state"]').text()).toBe('pending deletion')
    expect(buttons()).not.toContain('Cancel BatchJob')
  })

  it('offers delete before submission, and says so when the BatchJob does not exist', async () => {
    const { wrapper } = await render([batchJob('pending_submission', { start_time: null })])
    expect(wrapper.findAll('button').map((b) => b.text())).toContain('Delete')
    expect(deleteBatchJob).not.toHaveBeenCalled()
    wrapper.unmount()

    const gone = await render([])
    expect(gone.wrapper.text()).toContain('No such BatchJob')
  })
})
