import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { useAuthStore } from '@/stores/auth'
import { initialStatus, useConnectionStore } from '@/stores/connection'
import { useSitesStore } from '@/stores/sites'
import { mountView, storeLogin, stubVisualViewport } from '@/test-support/mountView'

import App from './App.vue'

/** The app's stream: `start` welcomes at once when `welcomes` is set (else it stays idle). */
const stream = vi.hoisted(() => ({ starts: 0, stops: 0, welcomes: false }))
vi.mock('@/realtime/eventStream', () => ({
  createAppEventStream: () => ({
    start: () => {
      stream.starts += 1
      if (!stream.welcomes) return
      getMemo.setRemembering(true)
      useConnectionStore().set({ ...initialStatus(), phase: 'live', lastSeq: 1 })
    },
    stop: () => (stream.stops += 1),
    retryNow: vi.fn(),
  }),
}))

/** Each API GET's path and query, and whether a view's heading was on the page when it left. */
let requests: { url: string; viewShown: boolean }[] = []

beforeEach(() => {
  Object.assign(stream, { starts: 0, stops: 0, welcomes: false })
  requests = []
  getMemo.clear()
  stubVisualViewport()
  vi.stubGlobal(
    'fetch',
    vi.fn((request: Request) => {
      const url = new URL(request.url)
      requests.push({
        url: url.pathname + url.search,
        viewShown: document.querySelector('h1') !== null,
      })
      return Promise.resolve(
        new Response('{"count":0,"results":[]}', {
          headers: { 'Content-Type': 'application/json' },
        }),
      )
    }),
  )
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('App', () => {
  it('shows the shell with navigation and the user menu when logged in', async () => {
    storeLogin('alice')
    const { wrapper } = await mountView(App, { at: '/sites' })
    // The first render comes a task after the router is ready (see the next tests).
    await vi.waitFor(() => expect(wrapper.find('nav').exists()).toBe(true))

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

  it('runs the live session from the app’s start while logged in, and ends it with the login', async () => {
    storeLogin('alice')
    const { pinia } = await mountView(App, { at: '/sites' })
    expect(stream.starts).toBe(1)

    useAuthStore(pinia).logOut()
    await flushPromises()
    expect(stream.stops).toBe(1)
  })

  it('opens no socket on the login page until the user logs in', async () => {
    const { router } = await mountView(App, { at: '/login' })
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('login')
    expect(stream.starts).toBe(0)
  })

  it('sends the Jobs page’s GET once welcomed and before the view renders, and only once', async () => {
    stream.welcomes = true
    storeLogin('alice')
    const { wrapper } = await mountView(App, { at: '/jobs?page=3&sort=id' })
    await vi.waitFor(() => expect(wrapper.find('h1').text()).toContain('Jobs'))
    await flushPromises()

    const page = requests.filter(
      (r) => r.url.startsWith('/api/v1/jobs/?') && r.url.includes('offset='),
    )
    expect(page.map((r) => r.url)).toEqual(['/api/v1/jobs/?ordering=id&limit=50&offset=100'])
    expect(page[0]?.viewShown).toBe(false)
  })
})
