import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import * as authApi from '@/api/auth'
import { ApiError } from '@/api/client'
import { useAuthStore } from '@/stores/auth'
import { mountView } from '@/test-support/mountView'

import LoginView from './LoginView.vue'

vi.mock('@/api/auth', async (importOriginal) => {
  const real = await importOriginal<typeof authApi>()
  return { ...real, login: vi.fn(), register: vi.fn(), loginMethods: vi.fn() }
})

async function render(methods: string[] | Error, at = '/login') {
  if (methods instanceof Error) vi.mocked(authApi.loginMethods).mockRejectedValue(methods)
  else vi.mocked(authApi.loginMethods).mockResolvedValue(methods)
  const mounted = await mountView(LoginView, { at })
  await flushPromises()
  return mounted
}

async function fillAndSubmit(wrapper: Awaited<ReturnType<typeof render>>['wrapper']) {
  await wrapper.find('input[name="username"]').setValue('alice')
  await wrapper.find('input[name="password"]').setValue('secret')
  await wrapper.find('form').trigger('submit')
  await flushPromises()
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('LoginView', () => {
  it('logs in and goes where the user was heading', async () => {
    vi.mocked(authApi.login).mockResolvedValue({
      access_token: 't',
      token_type: 'bearer',
      expiration: '2999-01-01T00:00:00',
    })
    const { wrapper, router } = await render(['LoginMethod.password'], '/login?redirect=/apps')
    await fillAndSubmit(wrapper)

    expect(authApi.login).toHaveBeenCalledWith('alice', 'secret')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/apps'))
  })

  it('shows the server’s refusal and stays', async () => {
    vi.mocked(authApi.login).mockRejectedValue(new ApiError(401, 'Wrong username or password.'))
    const { wrapper, router } = await render(['LoginMethod.password'])
    await fillAndSubmit(wrapper)

    expect(wrapper.find('[data-testid="login-error"]').text()).toBe('Wrong username or password.')
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('offers registration only when the server has password logins', async () => {
    const withPassword = await render(['LoginMethod.password'])
    expect(withPassword.wrapper.text()).toContain('Create account')
    document.body.innerHTML = ''

    const withoutPassword = await render(['LoginMethod.oauth_device'])
    expect(withoutPassword.wrapper.text()).not.toContain('Create account')
    expect(withoutPassword.wrapper.text()).toContain('does not offer password logins')
  })

  it('registers with a repeated password and reports a taken name', async () => {
    vi.mocked(authApi.register).mockRejectedValue(new ApiError(400, 'Username already taken'))
    const { wrapper } = await render(['LoginMethod.password'])
    const tab = wrapper.findAll('button').find((button) => button.text() === 'Create account')
    await tab?.trigger('click')
    await wrapper.find('input[name="confirmation"]').setValue('secret')
    await fillAndSubmit(wrapper)

    expect(authApi.register).toHaveBeenCalledWith('alice', 'secret')
    expect(wrapper.find('[data-testid="login-error"]').text()).toBe('Username already taken')
  })

  it('shows why the user was sent here', async () => {
    const { wrapper, pinia } = await render(['LoginMethod.password'])
    useAuthStore(pinia).notice = 'Your login has expired. Please log in again.'
    await flushPromises()

    expect(wrapper.find('[data-testid="login-notice"]').text()).toContain('expired')
  })
})
