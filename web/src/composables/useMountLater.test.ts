import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'

import { FIRST_PAINT_WAIT_MS, useAfterFirstPaint, useOpenedOnce } from './useMountLater'

afterEach(() => {
  vi.useRealTimers()
})

const FAKE: Parameters<typeof vi.useFakeTimers>[0] = {
  toFake: ['setTimeout', 'clearTimeout', 'requestAnimationFrame', 'cancelAnimationFrame'],
}

describe('useAfterFirstPaint', () => {
  it('turns true in the task after the frame that follows the data being shown', async () => {
    vi.useFakeTimers(FAKE)
    const shown = ref(false)
    const scope = effectScope()
    const done = scope.run(() => useAfterFirstPaint(() => shown.value))!

    vi.advanceTimersByTime(100)
    expect(done.value).toBe(false)

    shown.value = true
    await nextTick()
    expect(done.value).toBe(false)
    vi.advanceTimersToNextFrame()
    expect(done.value).toBe(false) // the frame's callbacks run before its paint
    vi.advanceTimersByTime(1)
    expect(done.value).toBe(true)

    shown.value = false
    await nextTick()
    expect(done.value).toBe(true) // stays mounted
    expect(vi.getTimerCount()).toBe(0)
    scope.stop()
  })

  it('gives up waiting after FIRST_PAINT_WAIT_MS (a hidden tab paints no frame)', () => {
    vi.useFakeTimers(FAKE)
    const scope = effectScope()
    const done = scope.run(() => useAfterFirstPaint(() => false))!
    vi.advanceTimersByTime(FIRST_PAINT_WAIT_MS - 1)
    expect(done.value).toBe(false)
    vi.advanceTimersByTime(1)
    expect(done.value).toBe(true)
    scope.stop()
  })

  it('leaves no timer behind when its component goes away first', () => {
    vi.useFakeTimers(FAKE)
    const scope = effectScope()
    scope.run(() => useAfterFirstPaint(() => true))
    scope.stop()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('useOpenedOnce', () => {
  it('is true from the first opening on', async () => {
    const open = ref(false)
    const scope = effectScope()
    const opened = scope.run(() => useOpenedOnce(() => open.value))!
    expect(opened.value).toBe(false)
    open.value = true
    await nextTick()
    expect(opened.value).toBe(true)
    open.value = false
    await nextTick()
    expect(opened.value).toBe(true)
    scope.stop()
  })

  it('is true at once for what starts open', () => {
    const scope = effectScope()
    expect(scope.run(() => useOpenedOnce(() => true))?.value).toBe(true)
    scope.stop()
  })
})
