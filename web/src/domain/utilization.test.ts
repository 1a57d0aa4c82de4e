// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { describe, expect, it } from 'vitest'

import type { BatchJob, LogEvent } from '@/api/types'

import {
  allocatedNodes,
  busyNodes,
  meanOf,
  stepsOf,
  utilisation,
  utilisationWords,
} from './utilization'

const T0 = Date.UTC(2026, 10, 29, 12, 0, 0)
const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '')

function move(id: number, jobId: number, minute: number, from: string, to: string): LogEvent {
  return {
    id,
    job_id: jobId,
    timestamp: iso(T0 + minute * MIN),
    from_state: from,
    to_state: to,
    data: {},
  }
}

describe('utilisation', () => {
  it('turns deltas into a step function clipped to the window', () => {
    const steps = stepsOf(
      [
        { t: T0 - MIN, delta: 2 },
        { t: T0 + MIN, delta: 3 },
        { t: T0 + MIN, delta: -1 },
        { t: T0 + 20 * MIN, delta: 5 },
      ],
      T0,
      T0 + 10 * MIN,
    )
    expect(steps).toEqual([
      { t: T0, value: 2 },
      { t: T0 + MIN, value: 4 },
      { t: T0 + 10 * MIN, value: 4 },
    ])
    expect(meanOf(steps)).toBeCloseTo((2 * 1 + 4 * 9) / 10)
  })

  it('counts a BatchJob from start to end, and a running one until now', () => {
    const bjs = [
      {
        num_nodes: 8,
        start_time: iso(T0 + 2 * MIN),
        end_time: iso(T0 + 6 * MIN),
        state: 'finished',
      },
      { num_nodes: 4, start_time: iso(T0 - 5 * MIN), end_time: null, state: 'running' },
      { num_nodes: 16, start_time: null, end_time: null, state: 'queued' },
      { num_nodes: 2, start_time: iso(T0 - 9 * MIN), end_time: iso(T0 - MIN), state: 'finished' },
    ] as BatchJob[]
    expect(allocatedNodes(bjs, T0, T0 + 10 * MIN)).toEqual([
      { t: T0, value: 4 },
      { t: T0 + 2 * MIN, value: 12 },
      { t: T0 + 6 * MIN, value: 4 },
      { t: T0 + 10 * MIN, value: 4 },
    ])
  })

  it('weights running jobs by nodes over packing, and handles moves across the window edge', () => {
    const sizes: Record<number, { num_nodes: number; node_packing_count: number }> = {
      1: { num_nodes: 2, node_packing_count: 1 },
      2: { num_nodes: 1, node_packing_count: 4 },
      3: { num_nodes: 1, node_packing_count: 1 },
    }
    const events = [
      move(1, 1, 1, 'PREPROCESSED', 'RUNNING'),
      move(2, 1, 4, 'RUNNING', 'RUN_DONE'),
      // Job 2 entered RUNNING before the window: only its exit is in it.
      move(3, 2, 3, 'RUNNING', 'RUN_ERROR'),
      // Job 3 never left.
      move(4, 3, 5, 'RESTART_READY', 'RUNNING'),
      // Neither into nor out of RUNNING: ignored.
      move(5, 3, 6, 'RUN_DONE', 'POSTPROCESSED'),
    ]
    const { steps, unknownJobs } = busyNodes(events, (id) => sizes[id], T0, T0 + 10 * MIN, [3, 4])
    expect(unknownJobs).toBe(1) // job 4, running throughout, size unknown: 1 node
    expect(steps).toEqual([
      { t: T0, value: 1.25 },
      { t: T0 + MIN, value: 3.25 },
      { t: T0 + 3 * MIN, value: 3 },
      { t: T0 + 4 * MIN, value: 1 },
      { t: T0 + 5 * MIN, value: 2 },
      { t: T0 + 10 * MIN, value: 2 },
    ])
  })

  it('says how much of the allocated node-time was busy', () => {
    const allocated = [
      { t: 0, value: 10 },
      { t: 100, value: 10 },
    ]
    const busy = [
      { t: 0, value: 5 },
      { t: 50, value: 10 },
      { t: 100, value: 10 },
    ]
    expect(utilisation(busy, allocated)).toBeCloseTo(0.75)
    expect(utilisation(busy, [{ t: 0, value: 0 }])).toBeNull()
    expect(utilisationWords(0.75)).toBe(' (75 % used)')
  })

  it('never words more busy than allocated as "100 % used"', () => {
    const allocated = [
      { t: 0, value: 4 },
      { t: 100, value: 4 },
    ]
    const busy = [
      { t: 0, value: 9 },
      { t: 100, value: 9 },
    ]
    const share = utilisation(busy, allocated)
    expect(share).toBeCloseTo(2.25)
    expect(utilisationWords(share)).not.toMatch(/%/)
    expect(utilisationWords(share)).toMatch(/more nodes busy than allocated/)
  })

  it('does not count a job that started after the clock tick as busy since the window start', () => {
    // The clock ticks every few seconds: `to` is a little behind the newest events.
    const to = T0 + 10 * MIN
    const events = [move(1, 7, 10.05, 'PREPROCESSED', 'RUNNING')]
    const { steps } = busyNodes(events, () => undefined, T0, to, [7])
    expect(steps).toEqual([
      { t: T0, value: 0 },
      { t: to, value: 0 },
    ])
    // Once the clock passes it, the job is busy from its start only.
    const later = busyNodes(events, () => undefined, T0, T0 + 11 * MIN, [7]).steps
    expect(later).toEqual([
      { t: T0, value: 0 },
      { t: T0 + 10.05 * MIN, value: 1 },
      { t: T0 + 11 * MIN, value: 1 },
    ])
  })
})
