// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { describe, expect, it } from 'vitest'

import {
  advanceThroughput,
  advanceUtilization,
  busySteps,
  CHART_WINDOWS,
  dropDeletedJobs,
  firstBucket,
  settleBusyNow,
  throughputBins,
  throughputState,
  utilizationState,
} from './charts'

const NOW = Date.UTC(2026, 10, 29, 12, 0, 30)
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '')
const hour = CHART_WINDOWS.hour
const START = firstBucket(NOW, hour)

describe('throughput from an aggregate and the stream', () => {
  const answer = () => {
    const counts = Array<number>(60).fill(0)
    counts[0] = 3
    counts[59] = 2
    return { start: iso(START), bucket_seconds: 60, sites: [{ site_id: 1, counts }], seq: 10 }
  }

  it('lays the aggregate out per bucket and adds only newer finishes', () => {
    const state = throughputState(answer(), hour)
    const finish = {
      job_id: 1,
      timestamp: iso(NOW + 2_000),
      from_state: 'RUN_DONE',
      to_state: 'JOB_FINISHED',
    }
    advanceThroughput(state, [finish], 10, () => 1, NOW)
    advanceThroughput(state, [finish, { ...finish, to_state: 'RUNNING' }], 11, () => 2, NOW)
    const bins = throughputBins(state, NOW)
    expect(bins).toHaveLength(60)
    expect(bins[0]).toEqual({ start: START, count: 3 })
    expect(bins[59]?.count).toBe(3)
    expect(throughputBins(state, NOW, 2)[59]?.count).toBe(1)
  })

  it('slides with the clock and forgets buckets that left the window', () => {
    const state = throughputState(answer(), hour)
    const later = NOW + 2 * 60_000
    const finish = {
      job_id: 1,
      timestamp: iso(later),
      from_state: 'RUN_DONE',
      to_state: 'JOB_FINISHED',
    }
    advanceThroughput(state, [finish], 11, () => 1, later)
    const bins = throughputBins(state, later)
    expect(bins[0]?.start).toBe(START + 2 * 60_000)
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(3)
    expect([...state.bySite.get(1)!.keys()]).not.toContain(START)
  })
})

describe('utilisation from an aggregate and the stream', () => {
  const answer = {
    start: iso(START),
    as_of: iso(NOW),
    busy_mean: Array<number>(60).fill(2),
    busy_now: 3,
    seq: 10,
  }

  it('draws the means up to the snapshot, then the level moved by newer RUNNING events', () => {
    const state = utilizationState(answer, hour)
    const start = {
      job_id: 7,
      timestamp: iso(NOW + 5_000),
      from_state: 'PREPROCESSED',
      to_state: 'RUNNING',
    }
    const stop = {
      job_id: 8,
      timestamp: iso(NOW + 9_000),
      from_state: 'RUNNING',
      to_state: 'RUN_DONE',
    }
    advanceUtilization(state, [start], 9, () => 4, NOW + 10_000)
    advanceUtilization(state, [start, stop], 11, (id) => (id === 7 ? 4 : undefined), NOW + 10_000)
    const steps = busySteps(state, NOW + 10_000)
    expect(steps[0]).toEqual({ t: START, value: 2 })
    expect(steps.at(-3)).toEqual({ t: NOW + 5_000, value: 7 })
    expect(steps.at(-1)).toEqual({ t: NOW + 10_000, value: 6 })
    expect(state.unknownJobs).toBe(1)
  })

  it('frees the nodes of a running job that is deleted, once', () => {
    const state = utilizationState(answer, hour)
    const start = {
      job_id: 7,
      timestamp: iso(NOW + 1_000),
      from_state: 'PREPROCESSED',
      to_state: 'RUNNING',
    }
    advanceUtilization(state, [start], 11, () => 4, NOW + 1_000)
    dropDeletedJobs(state, [7, 99], 12, NOW + 2_000)
    dropDeletedJobs(state, [7], 13, NOW + 3_000)
    const steps = busySteps(state, NOW + 5_000)
    expect(steps.at(-1)?.value).toBe(3)
    expect(steps).toContainEqual({ t: NOW + 1_000, value: 7 })
    // Seen before the page's clock ticked past them, the moves still count.
    expect(busySteps(state, NOW).at(-1)?.value).toBe(3)
  })

  it('takes the level now from the server’s pushed counts, keeping the moves before it', () => {
    const state = utilizationState(answer, hour)
    const start = {
      job_id: 7,
      timestamp: iso(NOW + 1_000),
      from_state: 'PREPROCESSED',
      to_state: 'RUNNING',
    }
    advanceUtilization(state, [start], 11, () => 4, NOW + 2_000)
    // The same commit's counts agree: nothing to correct.
    settleBusyNow(state, 7, 11, NOW + 2_000)
    expect(state.moves.map((m) => m.delta)).toEqual([4])
    // Someone else deleted a running 2-node job this browser never held (ids only).
    settleBusyNow(state, 5, 12, NOW + 3_000)
    // Counts the snapshot already includes change nothing.
    settleBusyNow(state, 100, 10, NOW + 3_000)
    const steps = busySteps(state, NOW + 4_000)
    expect(steps).toContainEqual({ t: NOW + 1_000, value: 7 })
    expect(steps).toContainEqual({ t: NOW + 3_000, value: 5 })
    expect(steps.at(-1)).toEqual({ t: NOW + 4_000, value: 5 })
  })

  it('stays bounded: moves older than the window fold into the level', () => {
    const state = utilizationState(answer, hour)
    let now = NOW
    for (let i = 0; i < 5_000; i += 1) {
      now += 10_000
      const into = i % 2 === 0
      const move = {
        job_id: 1,
        timestamp: iso(now),
        from_state: into ? 'PREPROCESSED' : 'RUNNING',
        to_state: into ? 'RUNNING' : 'RUN_DONE',
      }
      advanceUtilization(state, [move], 11 + i, () => 1, now)
    }
    // An hour holds 360 moves 10 s apart; the rest were folded.
    expect(state.moves.length).toBeLessThanOrEqual(361)
    expect(busySteps(state, now).at(-1)?.value).toBe(3)
  })

  it('stays small at a thousand moves a second: one entry per second, same levels', () => {
    const state = utilizationState(answer, hour)
    // 10 minutes of 1 000 moves a second (200 jobs started, 100 finished, each 5 ms
    // apart, in calls of 50), each call its own change.
    let seq = 11
    for (let call = 0; call < 12_000; call += 1) {
      const at = NOW + 1_000 + call * 50
      const events = Array.from({ length: 50 }, (_, k) => {
        const into = k % 3 !== 2
        return {
          job_id: call * 50 + k,
          timestamp: iso(at + k),
          from_state: into ? 'PREPROCESSED' : 'RUNNING',
          to_state: into ? 'RUNNING' : 'RUN_DONE',
        }
      })
      advanceUtilization(state, events, seq, () => 1, at)
      seq += 1
    }
    // 600 seconds of moves: at most one entry per second.
    expect(state.moves.length).toBeLessThanOrEqual(601)
    // Every second nets +1 000/3 moves; the level at the end is exact.
    const steps = busySteps(state, NOW + 1_000 + 12_000 * 50)
    const moved = 12_000 * (34 - 16)
    expect(steps.at(-1)?.value).toBe(3 + moved)
    // Levels are still stepped within the window, in time order.
    const times = steps.map((s) => s.t)
    expect(times).toEqual([...times].sort((a, b) => a - b))
  })
})
