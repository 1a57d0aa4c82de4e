import { describe, expect, it } from 'vitest'

import { actionNotes, jobsCount } from './jobActions'

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
})
