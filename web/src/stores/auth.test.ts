import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import * as authApi from '@/api/auth'
import { createApiClient } from '@/api/client'

import { EXPIRED_MESSAGE, REJECTED_MESSAGE, useAuthStore } from './auth'

vi.mock('@/api/auth')

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(NOW)
  setActivePinia(createPinia())
  vi.mocked(authApi.login).mockResolvedValue({
    access_token: 'jwt-abc',
    token_type: 'bearer',
    expiration: '2026-11-29T14:00:00.000000', // naive UTC: two hours from NOW
  })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('auth store', () => {
  it('logs in and keeps token, expiry and username in localStorage', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')

    expect(authApi.login).toHaveBeenCalledWith('alice', 'pw')
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.username).toBe('alice')
    expect(JSON.parse(localStorage.getItem('balsam.auth') ?? '{}')).toEqual({
      token: 'jwt-abc',
      expiresAt: NOW + 2 * HOUR,
      username: 'alice',
    })
  })

  it('ends the login with a message when the token expires', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')
    vi.advanceTimersByTime(2 * HOUR)

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toBe(EXPIRED_MESSAGE)
    expect(localStorage.getItem('balsam.auth')).toBeNull()
  })

  it('does not restore an expired or malformed stored login', () => {
    localStorage.setItem(
      'balsam.auth',
      JSON.stringify({ token: 't', expiresAt: NOW - 1, username: 'a' }),
    )
    const auth = useAuthStore()
    auth.restore()
    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toBe(EXPIRED_MESSAGE)

    setActivePinia(createPinia())
    localStorage.setItem('balsam.auth', '{"token": 5}')
    const again = useAuthStore()
    again.restore()
    expect(again.isAuthenticated).toBe(false)
  })

  it('restores a valid stored login', () => {
    localStorage.setItem(
      'balsam.auth',
      JSON.stringify({ token: 't', expiresAt: NOW + HOUR, username: 'bob' }),
    )
    const auth = useAuthStore()
    auth.restore()

    expect(auth.isAuthenticated).toBe(true)
    expect(auth.username).toBe('bob')
  })

  it('registers, then logs in with the same credentials', async () => {
    vi.mocked(authApi.register).mockResolvedValue({ id: 1, username: 'carol' })
    const auth = useAuthStore()
    await auth.register('carol', 'pw')

    expect(authApi.register).toHaveBeenCalledWith('carol', 'pw')
    expect(auth.username).toBe('carol')
  })

  it('logs out without a notice', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')
    auth.logOut()

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toBeNull()
    expect(localStorage.getItem('balsam.auth')).toBeNull()
  })

  it('follows a logout in another tab', async () => {
    const auth = useAuthStore()
    auth.restore()
    await auth.logIn('alice', 'pw')
    localStorage.removeItem('balsam.auth')
    window.dispatchEvent(new StorageEvent('storage', { key: 'balsam.auth', newValue: null }))

    expect(auth.isAuthenticated).toBe(false)
  })
})

describe('auth store and the HTTP client', () => {
  function fakeServer(status: number) {
    const seen: Request[] = []
    const fetch = vi.fn((input: RequestInfo | URL) => {
      seen.push(input as Request)
      return Promise.resolve(new Response(JSON.stringify({ detail: 'x' }), { status }))
    })
    return { seen, client: createApiClient({ baseUrl: 'http://h', fetch }) }
  }

  it('sends the bearer token once logged in', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')
    const { seen, client } = fakeServer(200)
    await client.GET('/sites/')

    expect(seen[0]?.headers.get('Authorization')).toBe('Bearer jwt-abc')
  })

  it('ends the login when an authenticated request is answered 401', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')
    await fakeServer(401).client.GET('/sites/')

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toBe(REJECTED_MESSAGE)
  })

  it('sends no token, and ends nothing, when logged out', async () => {
    const auth = useAuthStore()
    const { seen, client } = fakeServer(401)
    await client.GET('/sites/')

    expect(seen[0]?.headers.has('Authorization')).toBe(false)
    expect(auth.notice).toBeNull()
  })

  it('does not send a token that has expired', async () => {
    const auth = useAuthStore()
    await auth.logIn('alice', 'pw')
    vi.setSystemTime(NOW + 3 * HOUR) // the timer has not fired yet
    const { seen, client } = fakeServer(200)
    await client.GET('/sites/')

    expect(seen[0]?.headers.has('Authorization')).toBe(false)
    expect(auth.notice).toBe(EXPIRED_MESSAGE)
  })
})
