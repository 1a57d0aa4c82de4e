// Password login, registration and login-method discovery (spec §2).
import { api, ApiError, errorMessage, unwrap } from './client'
import type { LoginResponse, User } from './types'

/** `GET /auth/how`: e.g. `["LoginMethod.password"]`. */
export async function loginMethods(): Promise<string[]> {
  return unwrap(await api.GET('/auth/how'))
}

export function passwordLoginAllowed(methods: readonly string[]): boolean {
  return methods.includes('LoginMethod.password')
}

/** `POST /auth/password/login` with the form body upstream expects (not JSON). */
export async function login(username: string, password: string): Promise<LoginResponse> {
  const result = await api.POST('/auth/password/login', {
    body: { username, password },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  })
  if (result.response.status === 401) {
    throw new ApiError(401, 'Wrong username or password.')
  }
  return unwrap(result)
}

/** `POST /auth/password/register`: 201, or 400 "Username already taken". */
export async function register(username: string, password: string): Promise<User> {
  const result = await api.POST('/auth/password/register', {
    body: { username, password },
  })
  if (!result.response.ok) {
    throw new ApiError(result.response.status, errorMessage(result.response.status, result.error))
  }
  return unwrap(result)
}

export async function currentUser(): Promise<User> {
  return unwrap(await api.GET('/auth/password/me'))
}
