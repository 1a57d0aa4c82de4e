import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'

import { useNow } from './useNow'

afterEach(() => {
  vi.useRealTimers()
})

describe('useNow', () => {
  it('ticks while in use and stops when its last user goes away', () => {
    vi.useFakeTimers()
    vi.setSystemTime(1_000)
    const scope = effectScope()
    const now = scope.run(() => useNow(1_000))
    expect(now?.value).toBe(1_000)

    vi.advanceTimersByTime(3_000)
    expect(now?.value).toBe(4_000)

    scope.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('gives callers with different tick lengths separate clocks', () => {
    vi.useFakeTimers()
    const scope = effectScope()
    scope.run(() => {
      useNow(1_000)
      useNow(5_000)
      useNow(5_000)
    })
    expect(vi.getTimerCount()).toBe(2)
    scope.stop()
  })
})
