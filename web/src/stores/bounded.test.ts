// The job and LogEvent stores stay bounded however much the stream brings, and never drop
// what a view shows.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { getMemo, memoKey } from '@/api/getMemo'
import { makeJob } from '@/test-support/jobFactory'

import { JOBS_HELD, useJobsStore } from './jobs'
import { LOG_EVENTS_HELD, useLogEventsStore } from './logEvents'
import { MAX_TOMBSTONES } from './resourceTable'

beforeEach(() => {
  setActivePinia(createPinia())
  getMemo.clear()
})

describe('bounded stores', () => {
  it('hold at most JOBS_HELD jobs through a long stream, keeping pinned and recent ones', () => {
    const jobs = useJobsStore()
    const owner = Symbol('page')
    jobs.pin(owner, [1, 2, 3])
    getMemo.setRemembering(true)
    void getMemo.run(memoKey('/jobs/', { limit: 25 }), () => Promise.resolve(null))
    void getMemo.run(memoKey('/sites/'), () => Promise.resolve(null))

    let seq = 0
    let peak = 0
    for (let batch = 0; batch < 100; batch += 1) {
      const rows = Array.from({ length: 1_000 }, (_, i) =>
        makeJob(batch * 1_000 + i + 1, 'RUNNING'),
      )
      seq += 1
      jobs.apply({ action: 'bulk-update', type: 'job', data: rows, seq })
      peak = Math.max(peak, jobs.size)
    }

    expect(peak).toBeLessThanOrEqual(JOBS_HELD + 1_000)
    expect(jobs.size).toBeLessThanOrEqual(JOBS_HELD)
    // Pinned rows stay though they were written first; the latest writes stay.
    expect(jobs.byId[1]).toBeDefined()
    expect(jobs.byId[3]).toBeDefined()
    expect(jobs.byId[4]).toBeUndefined()
    expect(jobs.byId[100_000]).toBeDefined()
    // The jobs GETs were forgotten (their rows may be gone), other GETs kept.
    expect(getMemo.has(memoKey('/jobs/', { limit: 25 }))).toBe(false)
    expect(getMemo.has(memoKey('/sites/'))).toBe(true)

    // Released pins are evictable again; an update moves a row to the most recent end.
    jobs.unpin(owner)
    jobs.apply({ action: 'bulk-update', type: 'job', data: [makeJob(2, 'FAILED')], seq: seq + 1 })
    for (let batch = 100; batch < 120; batch += 1) {
      const rows = Array.from({ length: 1_000 }, (_, i) =>
        makeJob(batch * 1_000 + i + 1, 'RUNNING'),
      )
      jobs.apply({ action: 'bulk-update', type: 'job', data: rows, seq: seq + 2 + batch })
    }
    expect(jobs.byId[1]).toBeUndefined()
    expect(jobs.size).toBeLessThanOrEqual(JOBS_HELD)
  })

  it('hold at most LOG_EVENTS_HELD LogEvents and a bounded number of tombstones', () => {
    const events = useLogEventsStore()
    for (let batch = 0; batch < 60; batch += 1) {
      const rows = Array.from({ length: 1_000 }, (_, i) => ({
        id: batch * 1_000 + i + 1,
        job_id: i,
        timestamp: '2026-11-29T12:00:00',
        from_state: 'PREPROCESSED',
        to_state: 'RUNNING',
        data: {},
      }))
      events.apply({ action: 'bulk-create', type: 'log_event', data: rows, seq: batch + 1 })
    }
    expect(events.size).toBeLessThanOrEqual(LOG_EVENTS_HELD)
    expect(events.byId[60_000]).toBeDefined()

    // Deletes of rows never held still leave tombstones; they are capped too.
    const jobs = useJobsStore()
    const ids = Array.from({ length: MAX_TOMBSTONES * 2 }, (_, i) => 1_000_000 + i)
    jobs.apply({ action: 'bulk-delete', type: 'job', data: ids, seq: 100 })
    jobs.apply({ action: 'bulk-update', type: 'job', data: [makeJob(5, 'RUNNING')], seq: 101 })
    jobs.apply({
      action: 'bulk-update',
      type: 'job',
      data: [makeJob(ids.at(-1)!, 'RUNNING')],
      seq: 99,
    })
    expect(jobs.byId[ids.at(-1)!]).toBeUndefined()
    // The oldest tombstones were forgotten: only they let an older answer through.
    jobs.apply({ action: 'bulk-update', type: 'job', data: [makeJob(ids[0]!, 'RUNNING')], seq: 99 })
    expect(jobs.byId[ids[0]!]).toBeDefined()
  })
})
