import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { failedJobIds, useFailuresStore } from './failures'

const moves = (...rows: [number, string, string][]) => ({
  seq: 1,
  action: 'bulk-create' as const,
  type: 'log_event' as const,
  data: rows.map(([jobId, from, to], id) => ({
    id,
    job_id: jobId,
    from_state: from,
    to_state: to,
  })),
})

beforeEach(() => setActivePinia(createPinia()))

describe('failures', () => {
  it('picks the jobs that moved into an error state', () => {
    expect(
      failedJobIds([
        moves([1, 'RUNNING', 'RUN_ERROR'], [2, 'RUNNING', 'RUN_DONE'], [3, 'RUN_ERROR', 'FAILED']),
        { seq: 2, action: 'bulk-update', type: 'job', data: [{ id: 4, state: 'FAILED' }] },
      ]),
    ).toEqual([1, 3])
  })

  it('counts each failed job once until dismissed', () => {
    const failures = useFailuresStore()
    failures.note([moves([1, 'RUNNING', 'RUN_ERROR'])])
    failures.note([moves([1, 'RUN_ERROR', 'FAILED'], [2, 'RUNNING', 'RUN_TIMEOUT'])])
    expect(failures.count).toBe(2)
    failures.dismiss()
    expect(failures.count).toBe(0)
  })
})
