import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { useConnectionStore, type ConnectionPhase } from '@/stores/connection'

import { CONNECT_GRACE_MS, useLiveLoad } from './useLiveLoad'

function setPhase(phase: ConnectionPhase) {
  useConnectionStore().set({ phase, since: Date.now(), attempt: 0, retryAt: null })
}

function mountProbe(load: () => void) {
  return mount(
    defineComponent({
      setup() {
        useLiveLoad(load)
        return () => h('div')
      },
    }),
  )
}

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
})

afterEach(() => {
  vi.useRealTimers()
})

describe('useLiveLoad', () => {
  it('waits for the socket to connect before the first load', async () => {
    setPhase('connecting')
    const load = vi.fn()
    mountProbe(load)
    await flushPromises()
    expect(load).not.toHaveBeenCalled()

    setPhase('live')
    await flushPromises()
    expect(load).toHaveBeenCalledOnce()
  })

  it('loads anyway once the grace period is over', async () => {
    setPhase('connecting')
    const load = vi.fn()
    mountProbe(load)
    vi.advanceTimersByTime(CONNECT_GRACE_MS)
    await flushPromises()

    expect(load).toHaveBeenCalledOnce()
  })

  it('loads again after every reconnect, and not on other changes', async () => {
    setPhase('live')
    const load = vi.fn()
    mountProbe(load)
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(1)

    setPhase('reconnecting')
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(1)
    setPhase('live')
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(2)
  })
})
