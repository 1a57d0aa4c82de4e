import { describe, expect, it } from 'vitest'

import type { Job } from '@/api/types'
import type { PageSummary } from '@/domain/livePage'
import { makeJob } from '@/test-support/jobFactory'

import {
  compareJobs,
  jobMatches,
  jobPageQuery,
  livePage,
  parseJobFilters,
  parseTag,
  type JobFilters,
} from './jobQuery'

const noParams = {
  site: [],
  app: '',
  batch_job: '',
  state: [],
  tag: [],
  sort: '',
  page: '',
  per: '',
}

function filters(overrides: Partial<JobFilters> = {}): JobFilters {
  return { ...parseJobFilters(noParams), ...overrides }
}

/** App 1 and 2 live on Site 10, App 3 on Site 20. */
const siteOfApp = (appId: number) => ({ 1: 10, 2: 10, 3: 20 })[appId]

describe('parseJobFilters', () => {
  it('reads every filter from the URL and drops what the server would refuse', () => {
    expect(
      parseJobFilters({
        site: ['3', 'x', '4'],
        app: '7',
        batch_job: '2',
        state: ['RUNNING', 'BOGUS'],
        tag: ['exp:a', 'nokey', ':v'],
        sort: '-last_update',
        page: '3',
        per: '100',
      }),
    ).toEqual({
      siteIds: [3, 4],
      appId: 7,
      batchJobId: 2,
      states: ['RUNNING'],
      tags: ['exp:a'],
      ordering: '-last_update',
      page: 3,
      perPage: 100,
    })
  })

  it('has defaults: newest first, page 1 of 50', () => {
    expect(parseJobFilters({ ...noParams, sort: 'nope', per: '33', page: '-1' })).toMatchObject({
      ordering: '-id',
      page: 1,
      perPage: 50,
    })
  })
})

describe('jobPageQuery', () => {
  it('turns filters into the server query with limit and offset', () => {
    expect(
      jobPageQuery(
        filters({ siteIds: [1], states: ['FAILED'], tags: ['a:b'], page: 3, perPage: 25 }),
      ),
    ).toEqual({
      site_id: [1],
      state: ['FAILED'],
      tags: ['a:b'],
      ordering: '-id',
      limit: 25,
      offset: 50,
    })
  })
})

describe('parseTag', () => {
  it('splits at the first colon', () => {
    expect(parseTag('url:http://x')).toEqual(['url', 'http://x'])
    expect(parseTag('k:')).toEqual(['k', ''])
    expect(parseTag('novalue')).toBeNull()
  })
})

describe('jobMatches', () => {
  const job = makeJob(1, 'RUNNING', { app_id: 3, tags: { exp: 'a', run: '2' } })

  it('checks app, state, Site (through the App) and every tag', () => {
    expect(jobMatches(job, filters(), siteOfApp)).toBe(true)
    expect(jobMatches(job, filters({ appId: 3, states: ['RUNNING', 'FAILED'] }), siteOfApp)).toBe(
      true,
    )
    expect(jobMatches(job, filters({ appId: 2 }), siteOfApp)).toBe(false)
    expect(jobMatches(job, filters({ states: ['FAILED'] }), siteOfApp)).toBe(false)
    expect(jobMatches(job, filters({ siteIds: [20] }), siteOfApp)).toBe(true)
    expect(jobMatches(job, filters({ siteIds: [10] }), siteOfApp)).toBe(false)
    expect(jobMatches(job, filters({ tags: ['exp:a', 'run:2'] }), siteOfApp)).toBe(true)
    expect(jobMatches(job, filters({ tags: ['exp:a', 'run:3'] }), siteOfApp)).toBe(false)
  })

  it('does not match a Site filter when the App is unknown', () => {
    expect(
      jobMatches(makeJob(1, 'READY', { app_id: 99 }), filters({ siteIds: [10] }), siteOfApp),
    ).toBe(false)
  })
})

describe('compareJobs', () => {
  it('orders like the server: the key, then id ascending', () => {
    const jobs = [
      makeJob(3, 'RUNNING', { workdir: 'b' }),
      makeJob(1, 'FAILED', { workdir: 'b' }),
      makeJob(2, 'RUNNING', { workdir: 'a' }),
    ]
    const ids = (ordering: Parameters<typeof compareJobs>[0]) =>
      [...jobs].sort(compareJobs(ordering)).map((j) => j.id)

    expect(ids('-id')).toEqual([3, 2, 1])
    expect(ids('state')).toEqual([1, 2, 3])
    expect(ids('-state')).toEqual([2, 3, 1])
    expect(ids('workdir')).toEqual([2, 1, 3])
  })
})

describe('livePage', () => {
  function table(jobs: Job[]) {
    return Object.fromEntries(jobs.map((j) => [j.id, j])) as Record<number, Job>
  }
  const summary = (ids: number[], count: number): PageSummary => ({ ids, count, at: 0 })

  it('keeps the answered rows that still match, in the server’s order', () => {
    const jobs = [makeJob(5, 'FAILED'), makeJob(4, 'RUNNING'), makeJob(3, 'FAILED')]
    const page = livePage(
      summary([5, 4, 3], 3),
      table(jobs),
      jobs,
      filters({ states: ['FAILED'], page: 2 }),
      siteOfApp,
    )

    expect(page.rows.map((j) => j.id)).toEqual([5, 3])
    expect(page).toMatchObject({ left: 1, joined: 0, count: 2 })
  })

  it('lets new matching jobs join page 1 above its boundary, never below it', () => {
    const answered = [makeJob(10, 'READY'), makeJob(9, 'READY')]
    const newer = makeJob(11, 'READY')
    const older = makeJob(2, 'READY') // known from another query, ranks below the page
    const all = [...answered, newer, older]
    const page = livePage(summary([10, 9], 40), table(all), all, filters({ perPage: 2 }), siteOfApp)

    expect(page.rows.map((j) => j.id)).toEqual([11, 10])
    expect(page.count).toBe(41)
  })

  it('takes every matching known job when the answered page was not full', () => {
    const all = [makeJob(1, 'READY'), makeJob(7, 'READY', { app_id: 3 }), makeJob(8, 'READY')]
    const page = livePage(
      summary([1], 1),
      table(all),
      all,
      filters({ siteIds: [10], ordering: 'id' }),
      siteOfApp,
    )

    expect(page.rows.map((j) => j.id)).toEqual([1, 8])
  })

  it('drops deleted rows', () => {
    const all = [makeJob(2, 'READY')]
    const page = livePage(summary([3, 2], 2), table(all), all, filters({ page: 2 }), siteOfApp)

    expect(page.rows.map((j) => j.id)).toEqual([2])
    expect(page.left).toBe(1)
  })
})
