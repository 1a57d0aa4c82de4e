import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { jobStateCounts } from '@/api/jobs'
import type { ResourceChange } from '@/realtime/change'
import { createAppEventStream } from '@/realtime/eventStream'
import { FakeWebSocket } from '@/test-support/fakeWebSocket'

import { useAppsStore } from './apps'
import { useAuthStore } from './auth'
import { useJobsStore } from './jobs'
import { countChange, useStateCountsStore, type CountLookups } from './stateCounts'

vi.mock('@/api/jobs')

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  getMemo.clear()
  getMemo.setRemembering(false)
  vi.mocked(jobStateCounts).mockResolvedValue({
    rows: [
      { site_id: 1, counts: { RUNNING: 2, FAILED: 1 }, running_nodes: 2 },
      { site_id: 2, counts: { RUNNING: 3 }, running_nodes: 3 },
    ],
  })
})

afterEach(() => {
  vi.useRealTimers()
})

const logEvents = (seq: number, ...moves: [number, string, string][]): ResourceChange => ({
  seq,
  action: 'bulk-create',
  type: 'log_event',
  data: moves.map(([jobId, from, to], i) => ({
    id: seq * 100 + i,
    job_id: jobId,
    from_state: from,
    to_state: to,
  })),
})

/** Jobs 1-9 on Site 1, 10-19 on Site 2; the browser holds jobs 1 (RUNNING) and 10 (RUNNING). */
const lookups: CountLookups = {
  job: (id) => (id === 1 || id === 10 ? { siteId: id < 10 ? 1 : 2, state: 'RUNNING' } : undefined),
  siteOfJob: (id) => (id < 10 ? 1 : id < 20 ? 2 : undefined),
}

describe('countChange', () => {
  const counts = () =>
    new Map<number, Record<string, number>>([
      [1, { RUNNING: 2, FAILED: 1 }],
      [2, { RUNNING: 3 }],
    ])

  it('moves one job per state change, on the job’s Site', () => {
    const c = counts()
    countChange(c, logEvents(1, [1, 'RUNNING', 'RUN_DONE'], [10, 'RUNNING', 'FAILED']), lookups)
    expect(c.get(1)).toEqual({ RUNNING: 1, FAILED: 1, RUN_DONE: 1 })
    expect(c.get(2)).toEqual({ RUNNING: 2, FAILED: 1 })
  })

  it('counts a created job once, in the state it was created in', () => {
    const c = counts()
    countChange(c, logEvents(1, [3, 'CREATED', 'STAGED_IN']), lookups)
    expect(c.get(1)).toEqual({ RUNNING: 2, FAILED: 1, STAGED_IN: 1 })
  })

  it('ignores LogEvents that do not change the state', () => {
    const c = counts()
    expect(countChange(c, logEvents(1, [1, 'RUNNING', 'RUNNING']), lookups)).toBeNull()
    expect(c).toEqual(counts())
  })

  it('counts down a deleted job it holds and reports the ones it cannot place', () => {
    const c = counts()
    const missed = countChange(
      c,
      { seq: 1, action: 'bulk-delete', type: 'job', data: { ids: [1, 5, 6] } },
      lookups,
    )
    expect(c.get(1)).toEqual({ RUNNING: 1, FAILED: 1 })
    expect(missed).toBe(2)
  })

  it('drops a deleted Site’s counts', () => {
    const c = counts()
    countChange(c, { seq: 1, action: 'delete', type: 'site', data: { id: 2 } }, lookups)
    expect([...c.keys()]).toEqual([1])
  })
})

describe('state counts store', () => {
  it('loads counts per Site once and totals them', async () => {
    const counts = useStateCountsStore()
    getMemo.setRemembering(true)
    await counts.load()
    await counts.load()

    expect(counts.bySite.get(1)).toEqual({ RUNNING: 2, FAILED: 1 })
    expect(counts.totals).toEqual({ RUNNING: 5, FAILED: 1 })
    expect(jobStateCounts).toHaveBeenCalledOnce()
  })

  it('refetches only when asked (refresh) or when the memo is cleared (resync)', async () => {
    const counts = useStateCountsStore()
    getMemo.setRemembering(true)
    await counts.load()
    await counts.refresh()
    expect(jobStateCounts).toHaveBeenCalledTimes(2)
    getMemo.clear()
    await counts.load()
    expect(jobStateCounts).toHaveBeenCalledTimes(3)
  })

  it('changes nothing before the counts are loaded, and publishes once per batch', async () => {
    const counts = useStateCountsStore()
    counts.track(logEvents(1, [1, 'RUNNING', 'RUN_DONE']), lookups)
    counts.publish()
    expect(counts.bySite.size).toBe(0)

    await counts.load()
    const before = counts.bySite
    counts.track(logEvents(2, [1, 'RUNNING', 'RUN_DONE']), lookups)
    counts.track(logEvents(3, [2, 'RUNNING', 'FAILED']), lookups)
    expect(counts.bySite).toBe(before)
    counts.publish()
    expect(counts.totals).toEqual({ RUNNING: 3, FAILED: 2, RUN_DONE: 1 })
  })

  it('skips events the answer already includes when it carries a snapshot seq', async () => {
    vi.mocked(jobStateCounts).mockResolvedValue({
      rows: [{ site_id: 1, counts: { RUNNING: 2 }, running_nodes: 2 }],
      seq: 10,
    })
    const counts = useStateCountsStore()
    await counts.load()
    counts.track(logEvents(10, [1, 'RUNNING', 'RUN_DONE']), lookups)
    counts.track(logEvents(11, [2, 'RUNNING', 'RUN_DONE']), lookups)
    counts.publish()
    expect(counts.bySite.get(1)).toEqual({ RUNNING: 1, RUN_DONE: 1 })
  })

  it('says how many deleted jobs it could not place', async () => {
    const counts = useStateCountsStore()
    await counts.load()
    counts.track({ seq: 1, action: 'bulk-delete', type: 'job', data: { ids: [7, 8] } }, lookups)
    counts.publish()
    expect(counts.unplaced).toBe(2)
    await counts.refresh()
    expect(counts.unplaced).toBe(0)
  })

  it('records a failure and keeps the last counts', async () => {
    const counts = useStateCountsStore()
    await counts.load()
    vi.mocked(jobStateCounts).mockRejectedValueOnce(new Error('The server answered 500'))
    await counts.refresh()

    expect(counts.error).toBe('The server answered 500')
    expect(counts.totals.RUNNING).toBe(5)
  })

  it('drops an answer that arrives after clear (a logout)', async () => {
    const counts = useStateCountsStore()
    const pending = counts.load()
    counts.clear()
    await pending

    expect(counts.bySite.size).toBe(0)
  })
})

describe('state counts through the event stream', () => {
  it('follows a job’s life from the socket alone: created, running, deleted', async () => {
    localStorage.setItem(
      'balsam.auth',
      JSON.stringify({ token: 'T', expiresAt: Date.now() + 3_600_000, username: 'u' }),
    )
    useAuthStore().restore()
    useAppsStore().applyRows(
      [{ id: 3, site_id: 1, name: 'a', parameters: {}, transfers: {} } as never],
      0,
    )
    const stream = createAppEventStream({
      url: 'ws://x',
      createSocket: (url) => new FakeWebSocket(url),
      schedule: (flush) => {
        queueMicrotask(flush)
        return () => undefined
      },
    })
    stream.start()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText({ op: 'welcome', seq: 0, resumed: false })
    const counts = useStateCountsStore()
    await counts.load()

    const job = (state: string) => ({ id: 5, app_id: 3, state, workdir: 'w' })
    socket.serverSendsText({ seq: 1, action: 'bulk-create', type: 'job', data: [job('STAGED_IN')] })
    socket.serverSendsText({ ...logEvents(2, [5, 'CREATED', 'STAGED_IN']), seq: 2 })
    socket.serverSendsText({ seq: 3, action: 'bulk-update', type: 'job', data: [job('RUNNING')] })
    socket.serverSendsText({ ...logEvents(4, [5, 'STAGED_IN', 'RUNNING']), seq: 4 })
    await vi.waitFor(() => expect(useJobsStore().byId[5]?.state).toBe('RUNNING'))
    expect(counts.totals).toEqual({ RUNNING: 6, FAILED: 1 })

    socket.serverSendsText({ seq: 5, action: 'bulk-delete', type: 'job', data: { ids: [5] } })
    await vi.waitFor(() => expect(useJobsStore().byId[5]).toBeUndefined())
    expect(counts.totals).toEqual({ RUNNING: 5, FAILED: 1 })
    expect(counts.unplaced).toBe(0)
    expect(jobStateCounts).toHaveBeenCalledOnce()
    stream.stop()
  })
})

describe('pushed state counts', () => {
  it('replace the estimate with the server counts and clear what was unplaced', async () => {
    const { setActivePinia, createPinia } = await import('pinia')
    setActivePinia(createPinia())
    const { useStateCountsStore } = await import('./stateCounts')
    const store = useStateCountsStore()
    store.replace({
      action: 'update',
      type: 'state_counts',
      seq: 7,
      data: [{ site_id: 3, counts: { RUNNING: 2, JOB_FINISHED: 5 } }],
    })
    store.publish()
    expect(store.bySite.get(3)).toEqual({ RUNNING: 2, JOB_FINISHED: 5 })
    expect(store.totals).toEqual({ RUNNING: 2, JOB_FINISHED: 5 })
    expect(store.unplaced).toBe(0)
    expect(store.loadedAt).not.toBeNull()
  })
})
