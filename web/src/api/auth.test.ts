import { describe, expect, it, vi } from 'vitest'

import { login, loginMethods, passwordLoginAllowed, register } from './auth'

function answer(status: number, body: unknown) {
  const seen: Request[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn((request: Request) => {
      seen.push(request)
      return Promise.resolve(
        new Response(JSON.stringify(body), {
          status,
          headers: { 'Content-Type': 'application/json' },
        }),
      )
    }),
  )
  return seen
}

describe('auth API', () => {
  it('logs in with a form body, as upstream requires', async () => {
    const seen = answer(200, { access_token: 't', token_type: 'bearer', expiration: 'x' })
    await expect(login('alice', 'p&ss=1')).resolves.toMatchObject({ access_token: 't' })

    const request = seen[0]
    expect(request?.method).toBe('POST')
    expect(new URL(request?.url ?? '').pathname).toBe('/api/v1/auth/password/login')
    expect(request?.headers.get('Content-Type')).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(await request?.text()))).toEqual({
      username: 'alice',
      password: 'p&ss=1',
    })
  })

  it('says plainly when the credentials are wrong', async () => {
    answer(401, { detail: 'Unauthorized' })
    await expect(login('alice', 'bad')).rejects.toThrow('Wrong username or password.')
  })

  it('registers with JSON and reports a taken username', async () => {
    const seen = answer(400, { detail: 'Username already taken' })
    await expect(register('alice', 'pw')).rejects.toThrow('Username already taken')
    expect(await seen[0]?.json()).toEqual({ username: 'alice', password: 'pw' })
  })

  it('recognises the password login method by upstream’s exact string', async () => {
    answer(200, ['LoginMethod.oauth_device', 'LoginMethod.password'])
    const methods = await loginMethods()

    expect(passwordLoginAllowed(methods)).toBe(true)
    expect(passwordLoginAllowed(['password'])).toBe(false)
  })
})
