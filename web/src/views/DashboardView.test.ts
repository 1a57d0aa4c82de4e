// Two chart stubs below are components defined in a test file, not app components.
/* eslint-disable vue/one-component-per-file */
import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { listBatchJobs } from '@/api/batchJobs'
import { listLogEvents } from '@/api/events'
import { getMemo } from '@/api/getMemo'
import { jobStateCounts, listJobs } from '@/api/jobs'
import { listSites } from '@/api/sites'
import type { BatchJob, Site } from '@/api/types'
import type { Step } from '@/domain/utilization'
import { makeJob } from '@/test-support/jobFactory'
import { notifyApplied } from '@/realtime/appliedChanges'
import { useStateCountsStore } from '@/stores/stateCounts'
import { mountView, storeLogin } from '@/test-support/mountView'

import DashboardView from './DashboardView.vue'

vi.mock('@/api/sites')
vi.mock('@/api/jobs')
vi.mock('@/api/batchJobs')
vi.mock('@/api/events')
// ECharts wants a canvas; the chart's numbers are also in its caption, which the stub keeps.
vi.mock('@/components/dashboard/ThroughputChart.vue', () => ({
  default: defineComponent({
    props: { bins: { type: Array, required: true }, unseen: { type: Object, default: null } },
    setup: (props) => () =>
      h(
        'p',
        {
          'data-testid': 'throughput-stub',
          'data-unseen': String((props.unseen as { count: number } | null)?.count ?? 0),
        },
        String((props.bins as { count: number }[]).reduce((n, b) => n + b.count, 0)),
      ),
  }),
}))

vi.mock('@/components/dashboard/UtilizationChart.vue', () => ({
  default: defineComponent({
    props: { allocated: { type: Array, required: true }, busy: { type: Array, required: true } },
    setup: (props) => () => {
      const last = (steps: unknown) => (steps as Step[]).at(-1)?.value ?? 0
      return h(
        'p',
        { 'data-testid': 'utilization-stub' },
        `${last(props.busy)} busy of ${last(props.allocated)}`,
      )
    },
  }),
}))

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '')

function site(id: number, name: string, minutesAgo: number) {
  return {
    id,
    name,
    path: `/p/${name}`,
    last_refresh: iso(NOW - minutesAgo * 60_000),
  } as unknown as Site
}

async function render() {
  storeLogin()
  const mounted = await mountView(DashboardView, { at: '/' })
  await flushPromises()
  await vi.dynamicImportSettled()
  await flushPromises()
  return mounted
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
  vi.setSystemTime(NOW)
  getMemo.clear()
  vi.mocked(listSites).mockResolvedValue({
    count: 2,
    results: [site(1, 'theta', 1), site(2, 'polaris', 30)],
    seq: 5,
  })
  vi.mocked(jobStateCounts).mockResolvedValue({
    rows: [{ site_id: 1, counts: { RUNNING: 1_200, FAILED: 3, JOB_FINISHED: 40 } }],
  })
  vi.mocked(listBatchJobs).mockResolvedValue({ count: 0, results: [], seq: 5 })
  vi.mocked(listJobs).mockResolvedValue({ count: 0, results: [], seq: 5 })
  vi.mocked(listLogEvents).mockResolvedValue({
    count: 2,
    results: [
      {
        id: 1,
        job_id: 1,
        timestamp: iso(NOW - 30_000),
        from_state: 'POSTPROCESSED',
        to_state: 'JOB_FINISHED',
        data: {},
      },
      {
        id: 2,
        job_id: 2,
        timestamp: iso(NOW - 90_000),
        from_state: 'POSTPROCESSED',
        to_state: 'JOB_FINISHED',
        data: {},
      },
    ],
    seq: 5,
  })
})

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('DashboardView', () => {
  it('puts what needs attention first: stale Sites and failed jobs', async () => {
    const { wrapper } = await render()
    const attention = wrapper.find('[data-testid="attention"]').text()

    expect(attention).toContain('1 Site has stopped refreshing: polaris')
    expect(attention).toContain('3 jobs FAILED')
  })

  it('shows each Site’s job counts by state group, with thousands separators', async () => {
    const { wrapper } = await render()
    const theta = wrapper.find('[data-site="theta"]')

    expect(theta.text()).toContain('1,243 jobs')
    expect(theta.find('[data-group="running"]').text()).toContain('1,200')
    expect(theta.find('[data-group="failed"]').text()).toContain('3')
    expect(wrapper.find('[data-site="polaris"]').text()).toContain('Stale')
  })

  it('moves the counts with job events and never refetches them', async () => {
    const { wrapper } = await render()
    const counts = useStateCountsStore()
    const lookups = { job: () => undefined, siteOfJob: () => 1 }
    counts.track(
      {
        seq: 6,
        action: 'bulk-create',
        type: 'log_event',
        data: [{ id: 9, job_id: 4, from_state: 'PREPROCESSED', to_state: 'RUNNING' }],
      },
      lookups,
    )
    counts.publish()
    notifyApplied([{ seq: 6, action: 'bulk-update', type: 'job', data: [] }])
    await vi.advanceTimersByTimeAsync(5_000)
    await flushPromises()

    expect(wrapper.find('[data-site="theta"] [data-group="running"]').text()).toContain('1,201')
    expect(jobStateCounts).toHaveBeenCalledOnce()
  })

  it('headlines how many finished from the answer’s count, beyond the fetch’s limit', async () => {
    vi.mocked(listLogEvents).mockImplementation((query) =>
      Promise.resolve(
        query?.to_state === 'JOB_FINISHED'
          ? {
              count: 169_638,
              results: [
                {
                  id: 1,
                  job_id: 1,
                  timestamp: iso(NOW - 30_000),
                  from_state: 'POSTPROCESSED',
                  to_state: 'JOB_FINISHED',
                  data: {},
                },
              ],
              seq: 5,
            }
          : { count: 0, results: [], seq: 5 },
      ),
    )
    const { wrapper } = await render()

    expect(wrapper.find('[data-testid="throughput-stub"]').attributes('data-unseen')).toBe('169637')
  })

  it('asks for the last hour’s finishes and charts them', async () => {
    const { wrapper } = await render()

    expect(listLogEvents).toHaveBeenCalledWith(
      expect.objectContaining({ to_state: 'JOB_FINISHED', ordering: '-timestamp' }),
    )
    expect(wrapper.find('[data-testid="throughput-stub"]').text()).toBe('2')
  })

  it('charts nodes allocated to running BatchJobs against nodes busy running jobs', async () => {
    const running = {
      id: 7,
      site_id: 1,
      state: 'running',
      num_nodes: 8,
      start_time: iso(NOW - 20 * 60_000),
      end_time: null,
    } as unknown as BatchJob
    vi.mocked(listBatchJobs).mockResolvedValue({ count: 1, results: [running], seq: 5 })
    // Job 5 (4 nodes) entered RUNNING ten minutes ago; job 6 (2 nodes, packed 2 per node) ran
    // from before the window and is still running; job 9 ran and left in the window.
    vi.mocked(listJobs).mockImplementation((query) =>
      Promise.resolve(
        query?.state
          ? {
              count: 2,
              results: [
                makeJob(5, 'RUNNING', { num_nodes: 4 }),
                makeJob(6, 'RUNNING', { num_nodes: 2, node_packing_count: 2 }),
              ],
              seq: 5,
            }
          : { count: 1, results: [makeJob(9, 'RUN_DONE', { num_nodes: 3 })], seq: 5 },
      ),
    )
    const move = (id: number, job_id: number, minutesAgo: number, from: string, to: string) => ({
      id,
      job_id,
      timestamp: iso(NOW - minutesAgo * 60_000),
      from_state: from,
      to_state: to,
      data: {},
    })
    vi.mocked(listLogEvents).mockImplementation((query) =>
      Promise.resolve(
        query?.to_state === 'RUNNING'
          ? {
              count: 2,
              results: [
                move(10, 5, 10, 'PREPROCESSED', 'RUNNING'),
                move(11, 9, 30, 'PREPROCESSED', 'RUNNING'),
              ],
              seq: 5,
            }
          : query?.from_state === 'RUNNING'
            ? { count: 1, results: [move(12, 9, 5, 'RUNNING', 'RUN_DONE')], seq: 5 }
            : { count: 0, results: [], seq: 5 },
      ),
    )
    const { wrapper } = await render()

    expect(listLogEvents).toHaveBeenCalledWith(expect.objectContaining({ to_state: 'RUNNING' }))
    expect(listLogEvents).toHaveBeenCalledWith(expect.objectContaining({ from_state: 'RUNNING' }))
    // Now: job 5 (4 nodes) + job 6 (2 nodes / 2 per node = 1); job 9 left.
    expect(wrapper.find('[data-testid="utilization-stub"]').text()).toBe('5 busy of 8')
  })

  it('shows a failed section with its error and a retry, and the rest of the page', async () => {
    vi.mocked(listLogEvents).mockRejectedValue(new Error('database is locked'))
    const { wrapper } = await render()

    const alerts = wrapper.findAll('[role="alert"]').map((a) => a.text())
    expect(alerts.some((t) => t.includes('Could not load the finished jobs'))).toBe(true)
    expect(alerts.some((t) => t.includes('database is locked'))).toBe(true)
    expect(wrapper.find('[data-site="theta"]').exists()).toBe(true)

    vi.mocked(listLogEvents).mockResolvedValue({ count: 0, results: [], seq: 5 })
    const retry = wrapper
      .findAll('[role="alert"]')
      .find((a) => a.text().includes('finished jobs'))
      ?.findAll('button')
      .find((b) => b.text() === 'Retry')
    await retry?.trigger('click')
    await flushPromises()
    expect(wrapper.text()).not.toContain('Could not load the finished jobs')
  })
})
