// Shared clocks for "n min ago" labels: one timer per tick length, running only while some
// component uses it.
import { getCurrentScope, onScopeDispose, readonly, ref, type Ref } from 'vue'

interface Clock {
  now: Ref<number>
  users: number
  timer?: ReturnType<typeof setInterval>
}

const clocks = new Map<number, Clock>()

/** The default tick: fine enough for minute-granular labels, cheap for big tables. */
export const TICK_MS = 5_000

/** The current time in ms, refreshed every `tickMs` while in use. */
export function useNow(tickMs = TICK_MS): Readonly<Ref<number>> {
  let clock = clocks.get(tickMs)
  if (clock === undefined) {
    clock = { now: ref(Date.now()), users: 0 }
    clocks.set(tickMs, clock)
  }
  const current = clock
  if (current.users === 0) {
    current.now.value = Date.now()
    current.timer = setInterval(() => (current.now.value = Date.now()), tickMs)
  }
  current.users += 1
  if (getCurrentScope()) {
    onScopeDispose(() => {
      current.users -= 1
      if (current.users === 0) clearInterval(current.timer)
    })
  }
  return readonly(current.now)
}
