import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'

import { useCoalesced } from './useCoalesced'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('useCoalesced', () => {
  it('shows a lone change at once and folds a burst into one update per interval', async () => {
    const source = ref(0)
    const scope = effectScope()
    const out = scope.run(() =>
      useCoalesced(
        () => source.value,
        250,
        () => Date.now(),
      ),
    )!

    source.value = 1
    await nextTick()
    expect(out.value).toBe(1) // the first change: immediately

    for (let i = 2; i <= 20; i += 1) {
      source.value = i
      await nextTick()
    }
    expect(out.value).toBe(1) // within the interval: held back
    await vi.advanceTimersByTimeAsync(250)
    expect(out.value).toBe(20) // one update with the latest value

    await vi.advanceTimersByTimeAsync(1_000)
    source.value = 21
    await nextTick()
    expect(out.value).toBe(21) // quiet for a while: immediate again

    scope.stop()
    source.value = 22
    await vi.advanceTimersByTimeAsync(1_000)
    expect(out.value).toBe(21)
  })
})
