import { afterEach, describe, expect, it, vi } from 'vitest'

import { initialStatus, useConnectionStore, type ConnectionStatus } from '@/stores/connection'
import { mountView, storeLogin } from '@/test-support/mountView'

import ConnectionIndicator from './ConnectionIndicator.vue'

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

async function render(
  status: Pick<ConnectionStatus, 'phase' | 'since' | 'retryAt'> & Partial<ConnectionStatus>,
) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW)
  storeLogin()
  const { wrapper, pinia } = await mountView(ConnectionIndicator)
  useConnectionStore(pinia).set({ ...initialStatus(), attempt: 1, ...status })
  await wrapper.vm.$nextTick()
  return wrapper.find('[data-testid="connection-indicator"]')
}

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('ConnectionIndicator', () => {
  it('says live when live', async () => {
    const chip = await render({ phase: 'live', since: NOW, retryAt: null })
    expect(chip.text()).toBe('Live')
  })

  it('says since when it has been reconnecting, and that data may be stale', async () => {
    const chip = await render({ phase: 'reconnecting', since: NOW - 12_000, retryAt: NOW + 4_000 })

    expect(chip.text()).toBe('Reconnecting · 12 s')
    expect(chip.attributes('title')).toMatch(/may be out of date.*/)
    expect(chip.attributes('title')).toContain('next try in 4 s')
  })

  it('says stalled at once when a heartbeat is overdue, though the socket is still open', async () => {
    const chip = await render({
      phase: 'live',
      since: NOW - 60_000,
      retryAt: null,
      stalledSince: NOW - 26_000,
    })

    expect(chip.text()).toBe('Stalled · 26 s')
    expect(chip.attributes('data-state')).toBe('stalled')
    expect(chip.attributes('title')).toMatch(/may be down/)
  })

  it('says offline when the browser has no network', async () => {
    const chip = await render({
      phase: 'reconnecting',
      since: NOW - 3_000,
      retryAt: NOW + 1_000,
      browserOffline: true,
    })

    expect(chip.text()).toBe('Offline · 3 s')
    expect(chip.attributes('title')).toMatch(/no network connection/)
  })

  it('says resynced for a while after a resync, then live', async () => {
    const chip = await render({ phase: 'live', since: NOW - 5_000, retryAt: null, resyncedAt: NOW })

    expect(chip.text()).toBe('Resynced')
    expect(chip.attributes('title')).toMatch(/reloaded/)
    vi.setSystemTime(NOW + 20_000)
    await vi.waitFor(() => expect(chip.text()).toBe('Live'), { timeout: 3_000 })
  })

  it('says paused, with how many updates wait, while paused', async () => {
    const chip = await render({
      phase: 'live',
      since: NOW,
      retryAt: null,
      paused: true,
      queued: 42,
    })
    expect(chip.text()).toBe('Paused · 42 waiting')
    expect(chip.attributes('data-state')).toBe('paused')
  })

  it('retries on click', async () => {
    const chip = await render({ phase: 'reconnecting', since: NOW, retryAt: NOW + 4_000 })
    const retry = vi.fn()
    useConnectionStore().onRetryRequest(retry)
    await chip.trigger('click')

    expect(retry).toHaveBeenCalledOnce()
  })
})
