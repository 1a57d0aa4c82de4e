// Test data made through the real API, as the Balsam CLI would make it.
import { expect, type APIRequestContext, type Page } from '@playwright/test'

export interface TestUser {
  username: string
  password: string
}

/** A fresh user per test keeps tests independent (no shared state to clean up). */
export async function registerUser(request: APIRequestContext): Promise<TestUser> {
  const user = {
    username: `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    password: 'e2e-password-1',
  }
  const response = await request.post('/api/v1/auth/password/register', { data: user })
  expect(response.status(), await response.text()).toBe(201)
  return user
}

/** `POST /auth/password/login` with the form body the CLI sends; returns the token. */
export async function apiToken(request: APIRequestContext, user: TestUser): Promise<string> {
  const response = await request.post('/api/v1/auth/password/login', { form: { ...user } })
  expect(response.status(), await response.text()).toBe(200)
  const body = (await response.json()) as { access_token: string }
  return body.access_token
}

/** `POST /sites/` with every field, as `balsam site init` sends it. */
export async function createSite(
  request: APIRequestContext,
  token: string,
  name: string,
): Promise<{ id: number; name: string; path: string }> {
  const response = await request.post('/api/v1/sites/', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      name,
      path: `/tmp/e2e/${name}`,
      globus_endpoint_id: null,
      backfill_windows: {},
      queued_jobs: {},
      optional_batch_job_params: {},
      allowed_projects: [],
      allowed_queues: {},
      transfer_locations: {},
    },
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: number; name: string; path: string }
}

export async function logInThroughUi(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.username)
  await page.getByLabel('Password', { exact: true }).fill(user.password)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
}
