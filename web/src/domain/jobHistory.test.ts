import { describe, expect, it } from 'vitest'

import { formatPreciseDuration, lastFailure, stateSpans, timeInStates } from './jobHistory'

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0)
const move = (id: number, s: number, from: string, to: string, data = {}) => ({
  id,
  at: T0 + s * 1000,
  from_state: from,
  to_state: to,
  data,
})

describe('job history', () => {
  it('finds why it failed: the last error state’s message and data', () => {
    const timeline = [
      move(1, 0, 'CREATED', 'STAGED_IN'),
      move(2, 5, 'PREPROCESSED', 'RUNNING'),
      move(3, 65, 'RUNNING', 'RUN_ERROR', { message: 'exit 1', return_code: 1 }),
      move(4, 70, 'RUN_ERROR', 'RESTART_READY'),
      move(5, 90, 'RUNNING', 'FAILED', { message: 'Segfault in rank 3' }),
    ]
    expect(lastFailure(timeline)).toEqual({
      state: 'FAILED',
      at: T0 + 90_000,
      message: 'Segfault in rank 3',
      data: {},
    })
    expect(lastFailure(timeline.slice(0, 3))).toMatchObject({
      message: 'exit 1',
      data: { return_code: 1 },
    })
    expect(lastFailure(timeline.slice(0, 2))).toBeNull()
  })

  it('times each state to the second, the current one until now', () => {
    const timeline = [
      move(1, 0, 'CREATED', 'STAGED_IN'),
      move(2, 3, 'STAGED_IN', 'RUNNING'),
      move(3, 3725, 'RUNNING', 'RUN_DONE'),
    ]
    const spans = stateSpans(timeline, T0 + 3730_000, 'RUN_DONE')
    expect(spans.map((s) => [s.state, formatPreciseDuration(s.to - s.from), s.ongoing])).toEqual([
      ['STAGED_IN', '3 s', false],
      ['RUNNING', '1 h 02 min 02 s', false],
      ['RUN_DONE', '5 s', true],
    ])
    expect(timeInStates(spans).map((t) => t.state)).toEqual(['STAGED_IN', 'RUNNING', 'RUN_DONE'])
  })

  it('writes durations to the second', () => {
    expect(formatPreciseDuration(0)).toBe('0 s')
    expect(formatPreciseDuration(184_000)).toBe('3 min 04 s')
    expect(formatPreciseDuration(93_784_000)).toBe('1 d 2 h 03 min 04 s')
  })
})
