// Two chart stubs below are components defined in a test file, not app components.
/* eslint-disable vue/one-component-per-file */
import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { listBatchJobs } from '@/api/batchJobs'
import { fetchThroughput, fetchUtilization } from '@/api/aggregates'
import { getMemo } from '@/api/getMemo'
import { jobStateCounts } from '@/api/jobs'
import { listSites } from '@/api/sites'
import type { BatchJob, Site } from '@/api/types'
import { CHART_WINDOWS, firstBucket } from '@/domain/charts'
import type { Step } from '@/domain/utilization'
import { makeJob } from '@/test-support/jobFactory'
import { notifyApplied } from '@/realtime/appliedChanges'
import { useJobsStore } from '@/stores/jobs'
import { useStateCountsStore } from '@/stores/stateCounts'
import { mountView, storeLogin } from '@/test-support/mountView'

import DashboardView from './DashboardView.vue'

vi.mock('@/api/sites')
vi.mock('@/api/jobs')
vi.mock('@/api/batchJobs')
vi.mock('@/api/aggregates')
// ECharts wants a canvas; the chart's numbers are also in its caption, which the stub keeps.
vi.mock('@/components/dashboard/ThroughputChart.vue', () => ({
  default: defineComponent({
    props: { bins: { type: Array, required: true }, spec: { type: Object, required: true } },
    setup: (props) => () =>
      h(
        'p',
        {
          'data-testid': 'throughput-stub',
          'data-bins': String(props.bins.length),
          'data-last': String((props.bins as { count: number }[]).at(-1)?.count ?? 0),
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
    rows: [
      { site_id: 1, counts: { RUNNING: 1_200, FAILED: 3, JOB_FINISHED: 40 }, running_nodes: 1_200 },
    ],
  })
  vi.mocked(listBatchJobs).mockResolvedValue({ count: 0, results: [], seq: 5 })
  vi.mocked(fetchThroughput).mockImplementation((window) => Promise.resolve(throughput(window)))
  vi.mocked(fetchUtilization).mockImplementation((window) => Promise.resolve(utilization(window)))
})

const HOUR_START = NOW - 59 * 60_000
function throughput(window: 'hour' | 'day' | 'week') {
  const n = CHART_WINDOWS[window].buckets
  const counts = Array<number>(n).fill(0)
  counts[n - 1] = 1
  counts[n - 2] = window === 'hour' ? 1 : 40
  return {
    window,
    start: iso(firstBucket(NOW, CHART_WINDOWS[window])),
    end: iso(NOW + 60_000),
    as_of: iso(NOW),
    bucket_seconds: CHART_WINDOWS[window].bucketMs / 1000,
    buckets: n,
    sites: [{ site_id: 1, counts }],
    total: counts.reduce((a, b) => a + b, 0),
    seq: 5,
  } as Awaited<ReturnType<typeof fetchThroughput>>
}
function utilization(window: 'hour' | 'day' | 'week') {
  return {
    window,
    start: iso(HOUR_START),
    end: iso(NOW + 60_000),
    as_of: iso(NOW),
    bucket_seconds: 60,
    buckets: 60,
    busy_start: Array<number>(60).fill(2),
    busy_mean: Array<number>(60).fill(2),
    busy_now: 5,
    seq: 5,
  } as Awaited<ReturnType<typeof fetchUtilization>>
}

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

  it('charts the server’s aggregate for the window, fetched once, then moved by the stream', async () => {
    const { wrapper } = await render()
    const stub = () => wrapper.find('[data-testid="throughput-stub"]')

    expect(fetchThroughput).toHaveBeenCalledExactlyOnceWith('hour')
    expect(stub().text()).toBe('2')
    expect(stub().attributes('data-bins')).toBe('60')

    const finish = (seq: number, id: number) => ({
      seq,
      action: 'bulk-create' as const,
      type: 'log_event' as const,
      data: [
        {
          id,
          job_id: 4,
          timestamp: iso(NOW + 1_000),
          from_state: 'RUN_DONE',
          to_state: 'JOB_FINISHED',
          data: {},
        },
      ],
    })
    // At or below the aggregate's snapshot: already counted.
    notifyApplied([finish(5, 90)])
    notifyApplied([finish(6, 91)])
    await vi.advanceTimersByTimeAsync(5_000)
    await flushPromises()
    expect(stub().text()).toBe('3')
    expect(stub().attributes('data-last')).toBe('2')
    expect(fetchThroughput).toHaveBeenCalledOnce()
  })

  it('switches the window through the URL and fetches each window once', async () => {
    // The stream has a resume point: answers are remembered (api/getMemo.ts).
    getMemo.setRemembering(true)
    onTestFinished(() => getMemo.setRemembering(false))
    const { wrapper, router } = await render()
    await router.replace({ query: { window: 'day' } })
    await flushPromises()
    await vi.dynamicImportSettled()
    await flushPromises()

    expect(fetchThroughput).toHaveBeenLastCalledWith('day')
    expect(fetchUtilization).toHaveBeenLastCalledWith('day')
    const stub = wrapper.find('[data-testid="throughput-stub"]')
    expect(stub.attributes('data-bins')).toBe('96')
    expect(stub.text()).toBe('41')

    await router.replace({ query: {} })
    await flushPromises()
    expect(fetchThroughput).toHaveBeenCalledTimes(2)
  })

  it('charts nodes allocated to running BatchJobs against nodes busy, moved by RUNNING events', async () => {
    const running = {
      id: 7,
      site_id: 1,
      state: 'running',
      num_nodes: 8,
      start_time: iso(NOW - 20 * 60_000),
      end_time: null,
    } as unknown as BatchJob
    vi.mocked(listBatchJobs).mockResolvedValue({ count: 1, results: [running], seq: 5 })
    const { wrapper } = await render()
    const stub = () => wrapper.find('[data-testid="utilization-stub"]')
    expect(stub().text()).toBe('5 busy of 8')

    // A 4-node job starts after the snapshot: the stream brings the job, then its move.
    useJobsStore().applyRows([makeJob(12, 'RUNNING', { num_nodes: 4 })], 6)
    notifyApplied([
      {
        seq: 6,
        action: 'bulk-create',
        type: 'log_event',
        data: [
          {
            id: 99,
            job_id: 12,
            timestamp: iso(NOW),
            from_state: 'PREPROCESSED',
            to_state: 'RUNNING',
            data: {},
          },
        ],
      },
    ])
    await vi.advanceTimersByTimeAsync(5_000)
    await flushPromises()
    expect(stub().text()).toBe('9 busy of 8')

    // Deleted while running (the server's bulk-delete shape): its nodes are free again.
    notifyApplied([{ seq: 7, action: 'bulk-delete', type: 'job', data: { ids: [12] } }])
    await vi.advanceTimersByTimeAsync(5_000)
    await flushPromises()
    expect(stub().text()).toBe('5 busy of 8')
    expect(fetchUtilization).toHaveBeenCalledOnce()
  })

  it('shows a failed section with its error and a retry, and the rest of the page', async () => {
    vi.mocked(fetchThroughput).mockRejectedValue(new Error('database is locked'))
    const { wrapper } = await render()

    const alerts = wrapper.findAll('[role="alert"]').map((a) => a.text())
    expect(alerts.some((t) => t.includes('Could not load the finished jobs'))).toBe(true)
    expect(alerts.some((t) => t.includes('database is locked'))).toBe(true)
    expect(wrapper.find('[data-site="theta"]').exists()).toBe(true)

    vi.mocked(fetchThroughput).mockImplementation((window) => Promise.resolve(throughput(window)))
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
