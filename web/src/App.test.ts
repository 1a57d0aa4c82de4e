import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { useAuthStore } from '@/stores/auth'
import { useSitesStore } from '@/stores/sites'
import { mountView, storeLogin } from '@/test-support/mountView'

import App from './App.vue'

vi.mock('@/realtime/eventStream', () => ({
  createAppEventStream: () => ({ start: vi.fn(), stop: vi.fn(), retryNow: vi.fn() }),
}))

beforeEach(() => {
  vi.stubGlobal(
    'fetch',
    vi.fn(() =>
      Promise.resolve(
        new Response('{"count":0,"results":[]}', {
          headers: { 'Content-Type': 'application/json' },
        }),
      ),
    ),
  )
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('App', () => {
  it('shows the shell with navigation and the user menu when logged in', async () => {
    storeLogin('alice')
    const { wrapper } = await mountView(App, { at: '/sites' })
    await flushPromises()

    expect(wrapper.find('nav').text()).toContain('BatchJobs')
    expect(wrapper.text()).toContain('alice')
    expect(wrapper.find('[data-testid="connection-indicator"]').exists()).toBe(true)
  })

  it('returns to the login page, keeping the way back, when the login expires', async () => {
    storeLogin('alice')
    const { router, pinia } = await mountView(App, { at: '/sites?q=theta' })
    await flushPromises()

    useAuthStore(pinia).endLogin('Your login has expired. Please log in again.')
    await flushPromises()

    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(router.currentRoute.value.query.redirect).toBe('/sites?q=theta')
  })

  it('returns to a plain login page on logout, forgetting the user’s data', async () => {
    storeLogin('alice')
    const { router, pinia } = await mountView(App, { at: '/apps' })
    await flushPromises()
    const sites = useSitesStore(pinia)
    sites.apply({
      action: 'create',
      type: 'site',
      data: { id: 1, name: 'a', path: '/a', last_refresh: '2026-01-01T00:00:00' },
    })

    useAuthStore(pinia).logOut()
    await flushPromises()

    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/login'))
    expect(sites.size).toBe(0)
  })
})
