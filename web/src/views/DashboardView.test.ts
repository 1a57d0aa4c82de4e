import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { listBatchJobs } from '@/api/batchJobs'
import { listLogEvents } from '@/api/events'
import { getMemo } from '@/api/getMemo'
import { jobStateCounts } from '@/api/jobs'
import { listSites } from '@/api/sites'
import type { Site } from '@/api/types'
import { notifyApplied } from '@/realtime/appliedChanges'
import { REFRESH_AFTER_EVENTS_MS } from '@/stores/stateCounts'
import { mountView, storeLogin } from '@/test-support/mountView'

import DashboardView from './DashboardView.vue'

vi.mock('@/api/sites')
vi.mock('@/api/jobs')
vi.mock('@/api/batchJobs')
vi.mock('@/api/events')
// ECharts wants a canvas; the chart's numbers are also in its caption, which the stub keeps.
vi.mock('@/components/dashboard/ThroughputChart.vue', () => ({
  default: defineComponent({
    props: { bins: { type: Array, required: true } },
    setup: (props) => () =>
      h(
        'p',
        { 'data-testid': 'throughput-stub' },
        String((props.bins as { count: number }[]).reduce((n, b) => n + b.count, 0)),
      ),
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
  vi.mocked(jobStateCounts).mockResolvedValue([
    { site_id: 1, counts: { RUNNING: 1_200, FAILED: 3, JOB_FINISHED: 40 } },
  ])
  vi.mocked(listBatchJobs).mockResolvedValue({ count: 0, results: [], seq: 5 })
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

  it('refreshes the counts shortly after job events', async () => {
    const { wrapper } = await render()
    vi.mocked(jobStateCounts).mockResolvedValue([{ site_id: 1, counts: { RUNNING: 1_201 } }])
    notifyApplied([{ seq: 6, action: 'bulk-update', type: 'job', data: [] }])
    await vi.advanceTimersByTimeAsync(REFRESH_AFTER_EVENTS_MS)
    await flushPromises()

    expect(wrapper.find('[data-site="theta"] [data-group="running"]').text()).toContain('1,201')
  })

  it('asks for the last hour’s finishes and charts them', async () => {
    const { wrapper } = await render()

    expect(listLogEvents).toHaveBeenCalledWith(
      expect.objectContaining({ to_state: 'JOB_FINISHED', ordering: '-timestamp' }),
    )
    expect(wrapper.find('[data-testid="throughput-stub"]').text()).toBe('2')
  })
})
