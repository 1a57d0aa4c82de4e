import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import { initialStatus, useConnectionStore, type ConnectionPhase } from '@/stores/connection'

import { CONNECT_GRACE_MS, useLiveLoad } from './useLiveLoad'

function setPhase(phase: ConnectionPhase) {
  useConnectionStore().set({ ...initialStatus(), phase })
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

/** A mounted probe, the stream in `phase`; answers its load function. */
function probeAt(phase: ConnectionPhase) {
  setPhase(phase)
  const load = vi.fn()
  mountProbe(load)
  return load
}

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
})

afterEach(() => {
  vi.useRealTimers()
})

describe('useLiveLoad', () => {
  it.each([
    { phase: 'connecting' as const, name: 'waits for the socket to connect before the first load' },
    {
      phase: 'reconnecting' as const,
      name: 'keeps waiting while the first connection is retried, until the welcome',
    },
  ])('$name', async ({ phase }) => {
    const load = probeAt(phase)
    await flushPromises()
    expect(load).not.toHaveBeenCalled()

    setPhase('live')
    await flushPromises()
    expect(load).toHaveBeenCalledOnce()
  })

  it('does not wait on a reconnect after a welcome: the memo covers it', async () => {
    useConnectionStore().set({ ...initialStatus(), phase: 'reconnecting', lastSeq: 7 })
    const load = vi.fn()
    mountProbe(load)
    await flushPromises()
    expect(load).toHaveBeenCalledOnce()
  })

  it('loads anyway once the grace period is over', async () => {
    const load = probeAt('connecting')
    vi.advanceTimersByTime(CONNECT_GRACE_MS)
    await flushPromises()

    expect(load).toHaveBeenCalledOnce()
  })

  it('reloads when the stream asks (fresh start, resync), not on a resumed reconnect', async () => {
    const load = probeAt('live')
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(1)

    setPhase('reconnecting')
    await flushPromises()
    setPhase('live')
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(1)

    useConnectionStore().noteReload('resync')
    await flushPromises()
    expect(load).toHaveBeenCalledTimes(2)
  })

  it('does not load twice when the fresh start comes before the first load', async () => {
    const load = probeAt('connecting')
    useConnectionStore().noteReload('fresh')
    setPhase('live')
    await flushPromises()

    expect(load).toHaveBeenCalledOnce()
  })
})
