// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { listJobs } from '@/api/jobs'
import type { Job } from '@/api/types'

import { makeJob } from '@/test-support/jobFactory'

import { useJobsStore } from './jobs'

vi.mock('@/api/jobs')

const job = (id: number, state: Job['state']) => makeJob(id, state)

beforeEach(() => {
  setActivePinia(createPinia())
  getMemo.setRemembering(false)
  getMemo.clear()
})

describe('jobs store', () => {
  it('passes its query on and remembers each distinct query separately while live', async () => {
    vi.mocked(listJobs).mockResolvedValue({ count: 1, results: [job(1, 'RUNNING')] })
    const jobs = useJobsStore()
    getMemo.setRemembering(true)
    await jobs.load({ ordering: '-last_update', limit: 100 })
    await jobs.load({ ordering: '-last_update', limit: 100 })
    await jobs.load({ state: ['FAILED'] })

    expect(listJobs).toHaveBeenCalledTimes(2)
    expect(listJobs).toHaveBeenNthCalledWith(1, { ordering: '-last_update', limit: 100 })
    expect(listJobs).toHaveBeenNthCalledWith(2, { state: ['FAILED'] })
  })

  it('applies list-wise events from the socket on top of loaded rows', async () => {
    vi.mocked(listJobs).mockResolvedValue({ count: 2, results: [job(1, 'READY'), job(2, 'READY')] })
    const jobs = useJobsStore()
    await jobs.load()
    jobs.apply({ action: 'bulk-update', type: 'job', data: [job(1, 'RUNNING')] })
    jobs.apply({ action: 'bulk-delete', type: 'job', data: { ids: [2] } })

    expect(jobs.all.map((j) => [j.id, j.state])).toEqual([[1, 'RUNNING']])
  })

  it('answers a page summary, remembered with the GET so a revisit gets the same ids', async () => {
    vi.mocked(listJobs).mockResolvedValue({
      count: 7,
      results: [job(3, 'RUNNING'), job(1, 'FAILED')],
      seq: 40,
    })
    const jobs = useJobsStore()
    getMemo.setRemembering(true)
    const first = await jobs.loadPage({ limit: 2 })
    const again = await jobs.loadPage({ limit: 2 })

    expect(first).toMatchObject({ ids: [3, 1], count: 7, seq: 40 })
    expect(again).toBe(first)
    expect(listJobs).toHaveBeenCalledOnce()
  })

  it('never lets a page answered before an event overwrite it, nor resurrect a deleted job', async () => {
    const jobs = useJobsStore()
    jobs.apply({ action: 'bulk-update', type: 'job', data: [job(1, 'RUNNING')], seq: 12 })
    jobs.apply({ action: 'bulk-delete', type: 'job', data: { ids: [2] }, seq: 13 })
    vi.mocked(listJobs).mockResolvedValue({
      count: 2,
      results: [job(1, 'READY'), job(2, 'READY')],
      seq: 11,
    })
    await jobs.load()

    expect(jobs.all.map((j) => [j.id, j.state])).toEqual([[1, 'RUNNING']])
  })
})
