import { describe, expect, it } from 'vitest'

import type { BatchJob } from '@/api/types'

import {
  batchJobActions,
  batchJobBody,
  batchJobMatches,
  compareBatchJobs,
  initialBatchJobForm,
  queueHistory,
  submitCommand,
  validateBatchJob,
  type SubmitLimits,
} from './batchJobs'

function bj(id: number, start: string | null, state = 'queued', site_id = 1): BatchJob {
  return { id, site_id, state, start_time: start } as BatchJob
}

describe('BatchJobs domain', () => {
  it('orders by start time like the server: not started first when descending', () => {
    const rows = [
      bj(1, '2026-11-29T10:00:00'),
      bj(2, null),
      bj(3, '2026-11-29T11:00:00'),
      bj(4, null),
    ]
    const ids = (o: '-start_time' | 'start_time') =>
      [...rows].sort(compareBatchJobs(o)).map((r) => r.id)

    expect(ids('-start_time')).toEqual([2, 4, 3, 1])
    expect(ids('start_time')).toEqual([1, 3, 2, 4])
  })

  it('filters by Site and state', () => {
    expect(batchJobMatches(bj(1, null, 'running', 2), { siteIds: [2], states: ['running'] })).toBe(
      true,
    )
    expect(batchJobMatches(bj(1, null, 'queued', 2), { siteIds: [], states: ['running'] })).toBe(
      false,
    )
    expect(batchJobMatches(bj(1, null, 'queued', 3), { siteIds: [2], states: [] })).toBe(false)
  })

  it('offers cancel while the scheduler holds it, delete before it was submitted', () => {
    expect(batchJobActions('queued')).toEqual(['cancel'])
    expect(batchJobActions('running')).toEqual(['cancel'])
    expect(batchJobActions('pending_submission')).toEqual(['delete'])
    for (const state of ['finished', 'submit_failed', 'pending_deletion']) {
      expect(batchJobActions(state)).toEqual([])
    }
  })

  const limits: SubmitLimits = {
    allowedQueues: {
      debug: { max_nodes: 8, max_walltime: 60 },
      prod: { max_nodes: 512, max_walltime: 1440 },
    },
    allowedProjects: ['physics'],
    optionalParams: { filesystems: 'home:grand' },
  }

  it('validates a submission against the Site the way the CLI does', () => {
    const form = initialBatchJobForm(1, limits)
    expect(form).toMatchObject({ queue: 'debug', project: 'physics', numNodes: 1, wallTimeMin: 30 })
    expect(validateBatchJob(form, limits)).toEqual({})

    expect(
      validateBatchJob(
        {
          ...form,
          queue: 'debug',
          numNodes: 9,
          wallTimeMin: 61,
          project: 'chem',
          filterTags: ['exp'],
          optionalParams: { color: 'red' },
        },
        limits,
      ),
    ).toEqual({
      numNodes: "9 exceeds the queue's 8 nodes",
      wallTimeMin: "61 min exceeds the queue's 60 min",
      project: 'Unknown project chem (known: physics)',
      filterTags: 'Write tags as key=value: exp',
      optionalParams: 'Not allowed by this Site: color',
    })
    expect(validateBatchJob({ ...form, queue: 'gpu' }, limits).queue).toBe(
      'Unknown queue gpu (known: debug, prod)',
    )
    expect(validateBatchJob({ ...form, numNodes: 0 }, limits).numNodes).toBe('At least 1 node')
    expect(
      validateBatchJob(form, { allowedQueues: {}, allowedProjects: [], optionalParams: {} }),
    ).toHaveProperty('queue')
    expect(validateBatchJob({ ...form, siteId: null }, null)).toEqual({ site: 'Choose a Site' })
  })

  it('builds the POST body and the equivalent command', () => {
    const form = {
      ...initialBatchJobForm(3, limits),
      numNodes: 2,
      filterTags: ['exp=e 1'],
      optionalParams: { filesystems: 'home', empty: '' },
    }
    expect(batchJobBody({ ...form, siteId: 3 })).toEqual({
      site_id: 3,
      project: 'physics',
      queue: 'debug',
      num_nodes: 2,
      wall_time_min: 30,
      job_mode: 'mpi',
      optional_params: { filesystems: 'home' },
      filter_tags: { exp: 'e 1' },
    })
    expect(submitCommand(form)).toBe(
      "balsam queue submit -n 2 -t 30 -q debug -A physics -j mpi --tag 'exp=e 1' -x filesystems=home",
    )
  })

  it('tells the queue history from start/end times and the states this page saw', () => {
    const base = {
      id: 1,
      start_time: null,
      end_time: null,
      scheduler_id: null,
    } as unknown as BatchJob
    const queued = queueHistory({ ...base, state: 'queued' }, [{ state: 'queued', at: null }])
    expect(queued.map((s) => [s.state, s.reached, s.current])).toEqual([
      ['pending_submission', true, false],
      ['queued', true, true],
      ['running', false, false],
      ['finished', false, false],
    ])
    expect(queued[1]?.source).toBeNull()

    const ran = queueHistory(
      {
        ...base,
        state: 'finished',
        start_time: '2026-11-29T10:00:00',
        end_time: '2026-11-29T10:30:00',
      },
      [
        { state: 'queued', at: null },
        { state: 'running', at: 5 },
        { state: 'finished', at: 9 },
      ],
    )
    expect(ran.map((s) => [s.state, s.source])).toEqual([
      ['pending_submission', null],
      ['queued', null],
      ['running', 'start_time'],
      ['finished', 'end_time'],
    ])
    expect(ran[2]?.at).toBe(Date.UTC(2026, 10, 29, 10, 0, 0))

    const cancelled = queueHistory({ ...base, state: 'pending_deletion' }, [
      { state: 'queued', at: null },
      { state: 'pending_deletion', at: 42 },
    ])
    expect(cancelled.map((s) => s.state)).toEqual([
      'pending_submission',
      'queued',
      'pending_deletion',
      'finished',
    ])
    expect(cancelled[2]).toMatchObject({ at: 42, source: 'seen', current: true })

    expect(queueHistory({ ...base, state: 'submit_failed' }, []).map((s) => s.state)).toEqual([
      'pending_submission',
      'submit_failed',
    ])
  })
})
