// The dashboard's charts from the server's aggregates (`GET /aggregates/throughput` and
// `/aggregates/utilization`, bucketed in SQL, a fixed size per window), then advanced by the
// LogEvents the stream brings after the aggregate's snapshot (`seq`). Pure functions: the
// store (`stores/charts.ts`) holds the state, the views draw what these compute.
import type { Step } from '@/domain/utilization'
import { parseServerTime } from '@/format/time'

export type ChartWindow = 'hour' | 'day' | 'week'

export interface ChartWindowSpec {
  label: string
  /** Bucket width (epoch-aligned, as the server cuts them). */
  bucketMs: number
  buckets: number
  /** "minute", "quarter hour", "hour": one bucket in words. */
  bucketWords: string
  /** The plural of `bucketWords`. */
  bucketsWords: string
  /** "the last hour": the whole window in words. */
  spanWords: string
  /** How many whole buckets before the current one the rate averages. */
  rateBuckets: number
}

export const CHART_WINDOWS: Record<ChartWindow, ChartWindowSpec> = {
  hour: {
    label: 'Last hour',
    bucketMs: 60_000,
    buckets: 60,
    bucketWords: 'minute',
    bucketsWords: 'minutes',
    spanWords: 'the last hour',
    rateBuckets: 5,
  },
  day: {
    label: '24 hours',
    bucketMs: 15 * 60_000,
    buckets: 96,
    bucketWords: 'quarter hour',
    bucketsWords: 'quarter hours',
    spanWords: 'the last 24 hours',
    rateBuckets: 4,
  },
  week: {
    label: 'Week',
    bucketMs: 3_600_000,
    buckets: 168,
    bucketWords: 'hour',
    bucketsWords: 'hours',
    spanWords: 'the last week',
    rateBuckets: 6,
  },
}

export function isChartWindow(value: unknown): value is ChartWindow {
  return value === 'hour' || value === 'day' || value === 'week'
}

/** The first bucket of the window whose last bucket holds `now`. */
export function firstBucket(now: number, spec: ChartWindowSpec): number {
  return (Math.floor(now / spec.bucketMs) - (spec.buckets - 1)) * spec.bucketMs
}

/** The LogEvent fields the charts read. */
export interface MoveEvent {
  job_id: number
  timestamp: string
  from_state: string
  to_state: string
}

/** Finishes by Site and bucket start (epoch ms); the aggregate's buckets, then live ones. */
export interface ThroughputState {
  spec: ChartWindowSpec
  /** The snapshot the aggregate reflects: events with a higher `seq` are new. */
  seq: number
  bySite: Map<number, Map<number, number>>
}

/** What `GET /aggregates/throughput` answers (the fields read here). */
export interface ThroughputAnswer {
  start: string
  bucket_seconds: number
  sites: { site_id: number; counts: number[] }[]
  seq: number
}

export function throughputState(answer: ThroughputAnswer, spec: ChartWindowSpec): ThroughputState {
  const start = parseServerTime(answer.start)
  const width = answer.bucket_seconds * 1000
  const bySite = new Map<number, Map<number, number>>()
  for (const { site_id: siteId, counts } of answer.sites) {
    const buckets = new Map<number, number>()
    counts.forEach((n, i) => n > 0 && buckets.set(start + i * width, n))
    bySite.set(siteId, buckets)
  }
  return { spec, seq: answer.seq, bySite }
}

/** Counts the finishes among `events` (of change `seq`); `siteOf` places a job (0: unknown). */
export function advanceThroughput(
  state: ThroughputState,
  events: readonly MoveEvent[],
  seq: number,
  siteOf: (jobId: number) => number,
  now: number,
): void {
  if (seq <= state.seq) return
  const first = firstBucket(now, state.spec)
  for (const event of events) {
    if (event.to_state !== 'JOB_FINISHED' || event.from_state === 'JOB_FINISHED') continue
    const t = parseServerTime(event.timestamp)
    if (!Number.isFinite(t) || t < first) continue
    const bucket = Math.floor(t / state.spec.bucketMs) * state.spec.bucketMs
    const siteId = siteOf(event.job_id)
    let site = state.bySite.get(siteId)
    if (site === undefined) state.bySite.set(siteId, (site = new Map<number, number>()))
    site.set(bucket, (site.get(bucket) ?? 0) + 1)
  }
  // Buckets that left the window are forgotten, so the state stays bounded.
  for (const site of state.bySite.values()) {
    for (const bucket of site.keys()) if (bucket < first) site.delete(bucket)
  }
}

export interface Bin {
  /** Epoch ms of the bucket's start. */
  start: number
  count: number
}

/** The window's bins at `now` (the current, partial bucket last), all Sites or one. */
export function throughputBins(state: ThroughputState, now: number, siteId?: number): Bin[] {
  const { spec } = state
  const first = firstBucket(now, spec)
  const bins = Array.from({ length: spec.buckets }, (_, i) => ({
    start: first + i * spec.bucketMs,
    count: 0,
  }))
  for (const [site, buckets] of state.bySite) {
    if (siteId !== undefined && site !== siteId) continue
    for (const [bucket, n] of buckets) {
      const bin = bins[Math.round((bucket - first) / spec.bucketMs)]
      if (bin !== undefined) bin.count += n
    }
  }
  return bins
}

/** Busy nodes: the aggregate's per-bucket means up to its `as_of`, then live moves. */
export interface UtilizationState {
  spec: ChartWindowSpec
  seq: number
  start: number
  asOf: number
  busyMean: number[]
  /** Nodes busy at `asOf`, then (after folding old moves) at the latest folded move. */
  busyNow: number
  /**
   * Moves since `asOf`, in time order: ± nodes, those within one slot (a sixtieth of a
   * bucket: a second in the hour's window) summed into one, so a window holds at most a
   * few thousand however many jobs move.
   */
  moves: { t: number; delta: number }[]
  /** Moves of jobs whose size this browser did not know (counted as one node). */
  unknownJobs: number
  /** Jobs seen moving into RUNNING since the snapshot and not out again: their nodes. */
  running: Map<number, number>
}

export interface UtilizationAnswer {
  start: string
  as_of: string
  busy_mean: number[]
  busy_now: number
  seq: number
}

export function utilizationState(
  answer: UtilizationAnswer,
  spec: ChartWindowSpec,
): UtilizationState {
  return {
    spec,
    seq: answer.seq,
    start: parseServerTime(answer.start),
    asOf: parseServerTime(answer.as_of),
    busyMean: answer.busy_mean,
    busyNow: answer.busy_now,
    moves: [],
    unknownJobs: 0,
    running: new Map(),
  }
}

/** Moves into (+) and out of (−) RUNNING among `events`, weighted by `nodesOf`. */
export function advanceUtilization(
  state: UtilizationState,
  events: readonly MoveEvent[],
  seq: number,
  nodesOf: (jobId: number) => number | undefined,
  now: number,
): void {
  if (seq <= state.seq) return
  for (const event of events) {
    const into = event.to_state === 'RUNNING'
    if (into === (event.from_state === 'RUNNING')) continue
    const t = parseServerTime(event.timestamp)
    if (!Number.isFinite(t)) continue
    let nodes = nodesOf(event.job_id)
    if (nodes === undefined) {
      state.unknownJobs += 1
      nodes = 1
    }
    // A move stamped before the snapshot was not in it: it changes the level from then on.
    state.moves.push({ t: Math.max(t, state.asOf), delta: into ? nodes : -nodes })
    if (into) state.running.set(event.job_id, nodes)
    else state.running.delete(event.job_id)
  }
  // Moves older than the window no longer show: fold them into the level, so the state
  // stays bounded however long the page is open.
  const first = firstBucket(now, state.spec)
  coalesceMoves(state)
  let folded = 0
  while (folded < state.moves.length && state.moves[folded]!.t < first) {
    state.busyNow += state.moves[folded]!.delta
    state.asOf = state.moves[folded]!.t
    folded += 1
  }
  if (folded > 0) state.moves.splice(0, folded)
}

/**
 * Jobs deleted at `now` (a delete event): one that was running frees its nodes, as the
 * server's next aggregate (which no longer has its LogEvents) will say. Its nodes come from
 * the moves this state saw, or, for a job running since before the snapshot (counted in
 * `busyNow`), from `runningAtDelete` (what this browser held of the job when it was deleted).
 * A running job this browser never held is freed by the pushed counts of the same commit
 * (`settleBusyNow`).
 */
export function dropDeletedJobs(
  state: UtilizationState,
  jobIds: readonly number[],
  seq: number,
  now: number,
  runningAtDelete: (jobId: number) => number | undefined = () => undefined,
): void {
  if (seq <= state.seq) return
  for (const id of jobIds) {
    let nodes = state.running.get(id)
    if (nodes !== undefined) state.running.delete(id)
    else nodes = runningAtDelete(id)
    if (nodes === undefined) continue
    state.moves.push({ t: Math.max(now, state.asOf), delta: -nodes })
  }
  coalesceMoves(state)
}

/**
 * The nodes busy now as the server counts them (Σ `running_nodes` of a pushed `state_counts`
 * change, exact at its `seq`, docs/realtime.md): the level at `now` becomes that. The moves
 * the LogEvents made stay where they put the line; what they cannot tell (a RUNNING job
 * deleted by someone whose browser never held it, a `num_nodes` patch, a job of unknown size
 * counted as one node) shows as one move at `now`.
 */
export function settleBusyNow(
  state: UtilizationState,
  busyNow: number,
  seq: number,
  now: number,
): void {
  if (seq <= state.seq) return
  const level = state.moves.reduce((sum, move) => sum + move.delta, state.busyNow)
  if (Math.abs(busyNow - level) < 1e-9) return
  state.moves.push({ t: Math.max(now, state.asOf), delta: busyNow - level })
  coalesceMoves(state)
}

/**
 * Sorts the moves by time and sums those that share a slot (a sixtieth of a bucket) into
 * the slot's first, dropping sums of zero: at 1 000 job updates/s the hour's window held
 * one entry per move (about 30 MB after 15 minutes), now at most one per second.
 */
export function coalesceMoves(state: UtilizationState): void {
  const slot = state.spec.bucketMs / 60
  state.moves.sort((a, b) => a.t - b.t)
  const merged: { t: number; delta: number }[] = []
  let key = Number.NaN
  for (const move of state.moves) {
    const k = Math.floor(move.t / slot)
    const last = merged.at(-1)
    if (last !== undefined && k === key) last.delta += move.delta
    else merged.push({ t: move.t, delta: move.delta })
    key = k
  }
  state.moves = merged.filter((m) => Math.abs(m.delta) > 1e-9)
}

/** The busy-nodes step function over the window at `now`. */
export function busySteps(state: UtilizationState, now: number): Step[] {
  const { spec } = state
  const from = firstBucket(now, spec)
  const steps: Step[] = []
  state.busyMean.forEach((value, i) => {
    const start = state.start + i * spec.bucketMs
    if (start >= state.asOf || start + spec.bucketMs <= from) return
    steps.push({ t: Math.max(start, from), value })
  })
  let level = state.busyNow
  const push = (t: number, value: number) => {
    const rounded = Math.round(value * 1000) / 1000
    const last = steps.at(-1)
    if (last !== undefined && last.t === t) last.value = rounded
    else steps.push({ t, value: rounded })
  }
  push(Math.max(state.asOf, from), level)
  // Moves stamped after `now` (the page's clock ticks every few seconds) still count, at
  // `now`: dropping them would hide a job that started since the last tick.
  for (const move of state.moves) {
    level += move.delta
    push(Math.min(Math.max(move.t, from), Math.max(now, from)), level)
  }
  push(Math.max(now, from), level)
  return steps
}
