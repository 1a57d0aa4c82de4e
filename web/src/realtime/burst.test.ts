// A 5 000-job bulk update (5 events of 1 000 jobs) must not freeze the UI: the stream applies
// it as one batch, and what views compute from the store recomputes once, not per event.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { computed } from 'vue'

import { getMemo } from '@/api/getMemo'
import { livePage } from '@/domain/jobQuery'
import { useAuthStore } from '@/stores/auth'
import { useJobsStore } from '@/stores/jobs'
import { FakeWebSocket } from '@/test-support/fakeWebSocket'
import { jobBurst, RUNNING_JOBS_PAGE } from '@/test-support/jobFactory'

import { createAppEventStream, type FlushScheduler } from './eventStream'

const JOBS = 5_000

beforeEach(() => {
  FakeWebSocket.reset()
  setActivePinia(createPinia())
  getMemo.clear()
  localStorage.setItem(
    'balsam.auth',
    JSON.stringify({ token: 'T', expiresAt: Date.now() + 3_600_000, username: 'u' }),
  )
  useAuthStore().restore()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('a burst of job events', () => {
  it('applies 5 000 updated jobs in one batch, and a view’s page recomputes once', () => {
    let pending: (() => void) | null = null
    const schedule: FlushScheduler = (flush) => {
      pending = flush
      return () => (pending = null)
    }
    createAppEventStream({
      url: 'ws://x',
      createSocket: (u) => new FakeWebSocket(u),
      schedule,
    }).start()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText({ op: 'welcome', seq: 0, resumed: false })

    const jobs = useJobsStore()
    for (const event of jobBurst(JOBS, 1, 'READY', 'bulk-create')) socket.serverSendsText(event)
    ;(pending as (() => void) | null)?.()
    expect(jobs.size).toBe(JOBS)

    // What the Jobs view computes: page 1 of 50, newest first, over every known job.
    const filters = RUNNING_JOBS_PAGE
    let recomputed = 0
    const page = computed(() => {
      recomputed += 1
      return livePage({ ids: [], count: 0, at: 0 }, jobs.byId, jobs.all, filters, () => 1)
    })
    expect(page.value.rows).toHaveLength(0)

    const frames = jobBurst(JOBS, 6, 'RUNNING').map((event) => JSON.stringify(event))
    const started = performance.now()
    for (const frame of frames) socket.serverSendsText(frame)
    ;(pending as (() => void) | null)?.()
    const rows = page.value.rows
    const elapsed = performance.now() - started

    console.warn(
      `5 000-job bulk-update: parse + apply + page recompute in ${elapsed.toFixed(1)} ms`,
    )
    expect(rows).toHaveLength(50)
    expect(rows[0]?.id).toBe(JOBS)
    expect(recomputed).toBe(2) // once before, once for the whole burst
    // Generous, so a busy CI machine does not flake; `npm run bench` measures precisely.
    expect(elapsed).toBeLessThan(2_000)
  })
})
