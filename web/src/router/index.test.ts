// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory } from 'vue-router'

import { useAuthStore } from '@/stores/auth'
import { storeLogin } from '@/test-support/mountView'

import { buildRouter } from './index'
import { safeRedirect } from './redirect'

function routerFor(loggedIn: boolean) {
  const pinia = createPinia()
  setActivePinia(pinia)
  if (loggedIn) storeLogin()
  useAuthStore(pinia).restore()
  return buildRouter(pinia, createMemoryHistory())
}

beforeEach(() => localStorage.clear())

describe('route guard', () => {
  it('sends a logged-out visitor to the login page, remembering where they were going', async () => {
    const router = routerFor(false)
    await router.push('/sites?q=theta')

    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/sites?q=theta')
  })

  it('lets a logged-in user through, and away from the login page', async () => {
    const router = routerFor(true)
    await router.push('/sites')
    expect(router.currentRoute.value.name).toBe('sites')

    await router.push('/login?redirect=/apps')
    expect(router.currentRoute.value.name).toBe('apps')
  })

  it('routes unknown paths to the not-found page', async () => {
    const router = routerFor(true)
    await router.push('/no/such/page')
    expect(router.currentRoute.value.name).toBe('not-found')
  })

  it('routes a job id to its page, and anything else under /jobs/ to not-found', async () => {
    const router = routerFor(true)
    await router.push('/jobs/42')
    expect(router.currentRoute.value.name).toBe('job')
    await router.push('/jobs/abc')
    expect(router.currentRoute.value.name).toBe('not-found')
  })
})

describe('safeRedirect', () => {
  it.each([
    ['/sites?q=x', '/sites?q=x'],
    ['//evil.example/x', null],
    ['/\\evil.example', null],
    ['https://evil.example', null],
    ['/login', null],
    [['/sites'], null],
    [undefined, null],
  ])('%s → %s', (value, expected) => {
    expect(safeRedirect(value)).toBe(expected)
  })
})
