import { afterEach, describe, expect, it, vi } from 'vitest'

import { initialStatus, useConnectionStore } from '@/stores/connection'
import { mountView, storeLogin } from '@/test-support/mountView'

import ConnectionBanner from './ConnectionBanner.vue'

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

async function render() {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW)
  storeLogin()
  const mounted = await mountView(ConnectionBanner)
  return { ...mounted, connection: useConnectionStore(mounted.pinia) }
}

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('ConnectionBanner', () => {
  it('stays away for the first 10 s of reconnecting, then says so across the page', async () => {
    const { wrapper, connection } = await render()
    const reconnecting = {
      ...initialStatus(),
      phase: 'reconnecting' as const,
      retryAt: NOW + 4_000,
    }
    connection.set({ ...reconnecting, since: NOW - 9_000 })
    await wrapper.vm.$nextTick()
    expect(wrapper.find('[data-testid="connection-banner"]').exists()).toBe(false)

    connection.set({ ...reconnecting, since: NOW - 12_000 })
    await wrapper.vm.$nextTick()
    const banner = wrapper.find('[data-testid="connection-banner"]')
    expect(banner.text()).toContain('No live updates for 12 s')
    expect(banner.text()).toContain('Next try in 4 s')

    const retry = vi.fn()
    connection.onRetryRequest(retry)
    await banner.find('button').trigger('click')
    expect(retry).toHaveBeenCalledOnce()

    connection.set({ ...initialStatus(), phase: 'live' })
    await wrapper.vm.$nextTick()
    expect(wrapper.find('[data-testid="connection-banner"]').exists()).toBe(false)
  })

  it('says the browser is offline when it is', async () => {
    const { wrapper, connection } = await render()
    connection.set({
      ...initialStatus(),
      phase: 'reconnecting',
      since: NOW - 15_000,
      browserOffline: true,
    })
    await wrapper.vm.$nextTick()
    expect(wrapper.find('[data-testid="connection-banner"]').text()).toContain('browser is offline')
  })
})
