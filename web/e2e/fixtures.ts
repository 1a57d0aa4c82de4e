// Test data made through the real API, as the Balsam CLI would make it.
import AxeBuilder from '@axe-core/playwright'
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
  settings: Record<string, unknown> = {},
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
      ...settings,
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

function bearer(token: string) {
  return { Authorization: `Bearer ${token}` }
}

/** `POST /apps/`: a shell-command App on `siteId` with no parameters or transfers. */
export async function createApp(
  request: APIRequestContext,
  token: string,
  siteId: number,
  name: string,
): Promise<{ id: number; name: string }> {
  const response = await request.post('/api/v1/apps/', {
    headers: bearer(token),
    data: {
      site_id: siteId,
      name,
      serialized_class: '',
      source_code: '',
      description: `${name} (e2e)`,
      parameters: {},
      transfers: {},
    },
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: number; name: string }
}

/** `POST /jobs/` of `count` jobs (they start in STAGED_IN: no parents, no stage-ins). */
export async function createJobs(
  request: APIRequestContext,
  token: string,
  appId: number,
  count: number,
  tags: Record<string, string> = {},
): Promise<{ id: number; state: string; workdir: string }[]> {
  const prefix = `e2e/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const jobs = Array.from({ length: count }, (_, i) => ({
    workdir: `${prefix}/${i}`,
    app_id: appId,
    tags,
    serialized_parameters: '',
    data: {},
    num_nodes: 1,
    ranks_per_node: 1,
    threads_per_rank: 1,
    threads_per_core: 1,
    launch_params: {},
    gpus_per_rank: 0,
    node_packing_count: 1,
    wall_time_min: 0,
    parent_ids: [],
    transfers: {},
  }))
  const response = await request.post('/api/v1/jobs/', { headers: bearer(token), data: jobs })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: number; state: string; workdir: string }[]
}

/** `PATCH /jobs/`: moves each job to `state`. */
export async function setJobStates(
  request: APIRequestContext,
  token: string,
  ids: number[],
  state: string,
): Promise<void> {
  const response = await request.patch('/api/v1/jobs/', {
    headers: bearer(token),
    data: ids.map((id) => ({ id, state })),
  })
  expect(response.status(), await response.text()).toBe(200)
}

/** The user's event-log head, read off a list response's `X-Balsam-Seq`. */
export async function logHead(request: APIRequestContext, token: string): Promise<number> {
  const response = await request.get('/api/v1/sites/?limit=1', { headers: bearer(token) })
  expect(response.status()).toBe(200)
  return Number(response.headers()['x-balsam-seq'])
}

/** `POST /batch-jobs/`: a queued-to-be allocation on `siteId`. */
export async function createBatchJob(
  request: APIRequestContext,
  token: string,
  siteId: number,
  numNodes = 2,
): Promise<{ id: number; state: string }> {
  const response = await request.post('/api/v1/batch-jobs/', {
    headers: bearer(token),
    data: {
      site_id: siteId,
      project: 'e2e-project',
      queue: 'debug',
      num_nodes: numNodes,
      wall_time_min: 30,
      job_mode: 'mpi',
      optional_params: {},
      filter_tags: { exp: 'e2e' },
    },
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: number; state: string }
}

/** `POST /sessions/`: a launcher Session on `siteId`. */
export async function createSession(
  request: APIRequestContext,
  token: string,
  siteId: number,
  batchJobId: number | null,
): Promise<{ id: number }> {
  const response = await request.post('/api/v1/sessions/', {
    headers: bearer(token),
    data: { site_id: siteId, batch_job_id: batchJobId },
  })
  expect(response.status(), await response.text()).toBe(201)
  return (await response.json()) as { id: number }
}

/** What a Site agent's settings.yml uploads: two queues and one project. */
export const SCHEDULER_SETTINGS = {
  allowed_queues: {
    debug: { max_nodes: 8, max_walltime: 60, max_queued_jobs: 2 },
    prod: { max_nodes: 512, max_walltime: 720, max_queued_jobs: 10 },
  },
  allowed_projects: ['e2e-project'],
  optional_batch_job_params: { filesystems: 'home' },
}

/** `PUT /batch-jobs/{id}`, as the Site's scheduler service reports progress. */
export async function updateBatchJob(
  request: APIRequestContext,
  token: string,
  id: number,
  patch: Record<string, unknown>,
): Promise<void> {
  const response = await request.put(`/api/v1/batch-jobs/${id}`, {
    headers: bearer(token),
    data: patch,
  })
  expect(response.status(), await response.text()).toBe(200)
}

/** `PATCH /jobs/` with a patch per job (`id` + fields), as a launcher reports progress. */
export async function patchJobs(
  request: APIRequestContext,
  token: string,
  items: Record<string, unknown>[],
): Promise<void> {
  const response = await request.patch('/api/v1/jobs/', { headers: bearer(token), data: items })
  expect(response.status(), await response.text()).toBe(200)
}

/** Naive UTC, as the Balsam API writes datetimes. */
export function naiveUtc(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '')
}

/**
 * A fresh user with a token, a Site and an App on it: where most tests start. Site `settings`
 * as for `createSite`.
 */
export async function seedApp(
  request: APIRequestContext,
  siteName: string,
  appName = 'Hello',
  settings: Record<string, unknown> = {},
) {
  const user = await registerUser(request)
  const token = await apiToken(request, user)
  const site = await createSite(request, token, siteName, settings)
  const app = await createApp(request, token, site.id, appName)
  return { user, token, site, app }
}

/**
 * `seedApp` on a Site named for the moment, then logged in through the login page, which
 * redirects `to` there; resolves once the event stream is live.
 */
export async function openWithApp(
  page: Page,
  request: APIRequestContext,
  to: string,
  siteSettings: Record<string, unknown> = {},
) {
  const seeded = await seedApp(request, `site-${Date.now().toString(36)}`, 'Hello', siteSettings)
  await page.goto(`/login?redirect=${encodeURIComponent(to)}`)
  await logInThroughUi(page, seeded.user)
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
  return seeded
}

/** A fresh user with a token and one Site. */
export async function seedSite(request: APIRequestContext, siteName: string) {
  const user = await registerUser(request)
  const token = await apiToken(request, user)
  const site = await createSite(request, token, siteName)
  return { user, token, site }
}

/**
 * Serious and critical WCAG A/AA violations on the page as it stands, once its finite
 * animations are over: a menu or dialog still fading in has lighter text than it will have
 * (axe once read a States menu's subtitles at 4.23:1 mid-fade).
 */
export async function violations(page: Page): Promise<string[]> {
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  )
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join(', ')})`,
    )
}
