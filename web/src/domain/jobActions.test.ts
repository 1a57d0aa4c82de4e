import { describe, expect, it } from 'vitest'

import { actionNotes, actionOutcome, jobsCount } from './jobActions'

describe('job actions', () => {
  it('counts with separators and the right noun', () => {
    expect(jobsCount(1)).toBe('1 job')
    expect(jobsCount(12_345)).toMatch(/^12.345 jobs$/)
  })

  it('notes jobs the action would not usually touch', () => {
    expect(actionNotes('retry', ['FAILED', 'JOB_FINISHED', 'JOB_FINISHED', 'RUNNING'])).toEqual([
      '2 jobs are JOB_FINISHED now.',
      '1 job is RUNNING now.',
    ])
    expect(actionNotes('delete', ['RUNNING'])).toEqual([])
  })

  it('reports what a delete did per job: a job a launcher holds is skipped, not "done"', () => {
    const after = (id: number) => (id === 2 ? { state: 'RUNNING', session_id: 7 } : undefined)
    expect(actionOutcome('delete', [1, 2], after)).toBe(
      '1 of 2 jobs deleted; 1 held by a launcher was skipped',
    )
    expect(actionOutcome('delete', [1, 3], () => undefined)).toBe('2 jobs deleted')
  })

  it('reports which jobs a state change left as they were', () => {
    const states: Record<number, string> = {
      1: 'RESTART_READY',
      2: 'JOB_FINISHED',
      3: 'RESTART_READY',
    }
    const after = (id: number) => (states[id] ? { state: states[id] } : undefined)
    expect(actionOutcome('retry', [1, 2, 3, 4], after)).toBe(
      'Retry: 2 of 4 jobs now RESTART_READY; 1 was skipped (1 JOB_FINISHED: the server does not allow that move); 1 no longer exists',
    )
  })
})
