// Mounts a component inside a VApp with the app's real plugins: Pinia, Vuetify and an
// in-memory router.
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach, beforeEach, vi } from 'vitest'
import { defineComponent, h, type Component } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import { VApp } from 'vuetify/components'

import { getMemo } from '@/api/getMemo'
import { buildVuetify } from '@/plugins/vuetify'
import { buildRouter } from '@/router'
import { useAuthStore } from '@/stores/auth'

export async function mountView(
  component: Component,
  options: { at?: string; pinia?: Pinia; props?: Record<string, unknown> } = {},
) {
  const pinia = options.pinia ?? createPinia()
  setActivePinia(pinia)
  useAuthStore(pinia).restore()
  const router: Router = buildRouter(pinia, createMemoryHistory())
  await router.push(options.at ?? '/')
  await router.isReady()
  // Inside a VApp, as in the app: layout components (VMain, VAppBar) need it.
  const Host = defineComponent({
    setup: () => () => h(VApp, null, { default: () => h(component, options.props ?? {}) }),
  })
  const wrapper = mount(Host, {
    global: { plugins: [pinia, router, buildVuetify()] },
    attachTo: document.body,
  })
  mounted.push(wrapper)
  return { wrapper, router, pinia }
}

const mounted: { unmount: () => void }[] = []

/** A logged-in browser: a stored login that `restore()` accepts. */
export function storeLogin(username = 'alice'): void {
  localStorage.setItem(
    'balsam.auth',
    JSON.stringify({ token: 'test-token', expiresAt: Date.now() + 3_600_000, username }),
  )
}

/** Vuetify's dialogs read the visual viewport, which happy-dom does not have. */
export function stubVisualViewport(): void {
  vi.stubGlobal(
    'visualViewport',
    Object.assign(new EventTarget(), {
      width: 1024,
      height: 768,
      offsetLeft: 0,
      offsetTop: 0,
      scale: 1,
    }),
  )
}

/**
 * Before each test of a view: the visual viewport its dialogs read, and a GET memo that is
 * empty and remembers (as with a live stream); after each, an empty page.
 */
export function setUpViewTests(): void {
  beforeEach(() => {
    stubVisualViewport()
    getMemo.clear()
    getMemo.setRemembering(true)
  })
  afterEach(() => {
    for (const w of mounted.splice(0)) w.unmount()
    document.body.innerHTML = ''
  })
}

/** Each test runs at `now` (only `Date` is faked) and leaves an empty page behind. */
export function freezeClockAt(now: number): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(now)
  })
  afterEach(() => {
    vi.useRealTimers()
    document.body.innerHTML = ''
  })
}
