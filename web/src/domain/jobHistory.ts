// A job's story from its LogEvents: why it failed (the last error state's message and data)
// and how long it spent in each state, to the second.
import type { LogEvent } from '@/api/types'

/** States a job ends in when something went wrong. */
export const ERROR_STATES: readonly string[] = ['RUN_ERROR', 'RUN_TIMEOUT', 'FAILED']

type Move = Pick<LogEvent, 'id' | 'from_state' | 'to_state' | 'data'> & { at: number }

export interface Failure {
  state: string
  at: number
  /** The event's `message` (what the launcher or server said), when it has one. */
  message: string | null
  /** The rest of the event's data. */
  data: Record<string, unknown>
}

/** The last move into an error state, in time order (`null`: it never failed). */
export function lastFailure(timeline: readonly Move[]): Failure | null {
  for (let i = timeline.length - 1; i >= 0; i -= 1) {
    const move = timeline[i]!
    if (!ERROR_STATES.includes(move.to_state)) continue
    const { message, ...rest } = move.data as Record<string, unknown>
    return {
      state: move.to_state,
      at: move.at,
      message: typeof message === 'string' && message.trim() !== '' ? message : null,
      data: typeof message === 'string' ? rest : move.data,
    }
  }
  return null
}

export interface StateSpan {
  state: string
  from: number
  /** When it left the state; for the state it is in now, `now`. */
  to: number
  /** Still in this state. */
  ongoing: boolean
}

/**
 * How long each move's `to_state` lasted: until the next move, or until `now` for the last one
 * when the job is still in that state (otherwise a move is missing and the span ends there).
 */
export function stateSpans(
  timeline: readonly Move[],
  now: number,
  currentState: string,
): StateSpan[] {
  return timeline.map((move, i) => {
    const next = timeline[i + 1]
    if (next !== undefined)
      return { state: move.to_state, from: move.at, to: next.at, ongoing: false }
    const ongoing = move.to_state === currentState
    return { state: move.to_state, from: move.at, to: ongoing ? now : move.at, ongoing }
  })
}

/** Total time per state over the spans, in first-seen order. */
export function timeInStates(spans: readonly StateSpan[]): { state: string; ms: number }[] {
  const totals = new Map<string, number>()
  for (const span of spans)
    totals.set(span.state, (totals.get(span.state) ?? 0) + (span.to - span.from))
  return [...totals].map(([state, ms]) => ({ state, ms }))
}

/** A duration to the second: `0 s`, `45 s`, `3 min 04 s`, `2 h 03 min 04 s`, `1 d 2 h 03 min 04 s`. */
export function formatPreciseDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000))
  const s = total % 60
  const m = Math.floor(total / 60) % 60
  const h = Math.floor(total / 3600) % 24
  const d = Math.floor(total / 86_400)
  const pad = (n: number) => String(n).padStart(2, '0')
  if (total < 60) return `${s} s`
  if (total < 3600) return `${m} min ${pad(s)} s`
  if (total < 86_400) return `${h} h ${pad(m)} min ${pad(s)} s`
  return `${d} d ${h} h ${pad(m)} min ${pad(s)} s`
}
