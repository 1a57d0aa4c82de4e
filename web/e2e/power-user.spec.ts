// What people who live in the dashboard ask for (issue 13, item 5): keyboard shortcuts,
// browser notifications of failures, configurable columns and saved views, and a Site page
// with its queues and backfill windows.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

import { createJobs, openWithApp, setJobStates, violations } from './fixtures'

const SHOTS = 'test-results/screenshots'

/** Waits until the open menu has finished its opening transition, for a screenshot of it. */
async function menuOpened(page: Page) {
  await page
    .locator('.v-overlay--active .v-overlay__content')
    .last()
    .evaluate((menu) => Promise.all(menu.getAnimations().map((a) => a.finished)))
}

/** A Site with queues, backfill windows and scheduler jobs, as its scheduler reports them. */
const SITE_SETTINGS = {
  allowed_queues: {
    debug: { max_nodes: 8, max_walltime: 60, max_queued_jobs: 1 },
    prod: { max_nodes: 512, max_walltime: 1440, max_queued_jobs: 20 },
  },
  backfill_windows: {
    debug: [{ num_nodes: 4, wall_time_min: 30 }],
    prod: [
      { num_nodes: 128, wall_time_min: 45 },
      { num_nodes: 16, wall_time_min: 120 },
    ],
  },
  queued_jobs: {
    '4001': {
      scheduler_id: 4001,
      state: 'queued',
      queue: 'prod',
      project: 'datascience',
      time_remaining_min: 30,
      queued_time_min: 5,
      num_nodes: 64,
      wall_time_min: 60,
    },
    '4002': {
      scheduler_id: 4002,
      state: 'running',
      queue: 'prod',
      project: 'datascience',
      time_remaining_min: 30,
      queued_time_min: 5,
      num_nodes: 32,
      wall_time_min: 30,
    },
  },
  allowed_projects: ['datascience'],
}

const setUp = (page: Page, request: APIRequestContext, to: string) =>
  openWithApp(page, request, to, SITE_SETTINGS)

test('keyboard: / focuses the filter, ↑/↓ and Enter work the Jobs table, ? lists the shortcuts', async ({
  page,
  request,
}) => {
  const { token, app } = await setUp(page, request, '/')
  const jobs = await createJobs(request, token, app.id, 3, { exp: 'kb' })
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()

  // From a page without a search field, `/` goes to the Jobs filters.
  await page.locator('body').press('/')
  await expect(page).toHaveURL(/\/jobs/)
  await expect(page.locator('[data-shortcut="search"] input')).toBeFocused()
  await page.keyboard.press('Escape')

  // Rows: the first is a Tab stop; arrows move, Enter opens (default order: newest first).
  const rows = page.locator('[data-testid="jobs-table"] tbody tr[data-job-id]')
  await expect(rows).toHaveCount(3)
  await rows.first().focus()
  await page.keyboard.press('ArrowDown')
  await expect(rows.nth(1)).toBeFocused()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowUp')
  await expect(rows.nth(1)).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(new RegExp(`/jobs/${jobs[1]!.id}$`))

  // `?` anywhere but in a field opens the cheat sheet; Escape closes it.
  await page.locator('body').press('?')
  const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
  await expect(sheet).toBeVisible()
  await expect(sheet).toContainText('Search or filter this page')
  await page.screenshot({ path: `${SHOTS}/keyboard-shortcuts.png` })
  expect(await violations(page)).toEqual([])
  await page.keyboard.press('Escape')
  await expect(sheet).toBeHidden()

  // On Sites, `/` focuses that page's own filter; typed into a field, `/` is just a character.
  await page.goto('/sites')
  await expect(page.getByRole('heading', { name: 'Sites' })).toBeVisible()
  await page.locator('body').press('/')
  const filter = page.locator('[data-shortcut="search"] input')
  await expect(filter).toBeFocused()
  await page.keyboard.type('a/b')
  await expect(filter).toHaveValue('a/b')
  await expect(page).toHaveURL(/\/sites/)
})

test('failure notifications are opt-in, kept across reloads, and one per burst', async ({
  page,
  context,
  request,
}) => {
  await context.grantPermissions(['notifications'])
  // Record every notification the page raises (the browser's own, wrapped).
  await page.addInitScript(() => {
    const Real = window.Notification
    const seen: { title: string; body: string }[] = []
    ;(window as unknown as { __notes: typeof seen }).__notes = seen
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options)
        seen.push({ title, body: options?.body ?? '' })
      }
    }
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission })
    Object.defineProperty(Recorded, 'requestPermission', {
      value: (...args: []) => Real.requestPermission(...args),
    })
    window.Notification = Recorded
  })
  const notes = () =>
    page.evaluate(() => (window as unknown as { __notes: { title: string }[] }).__notes)

  const { user, token, app } = await setUp(page, request, '/')
  const jobs = await createJobs(request, token, app.id, 4)

  // Off by default: a failure raises the banner, no notification.
  await setJobStates(request, token, [jobs[0]!.id], 'FAILED')
  await expect(page.getByText(/1 job failed since/)).toBeVisible()
  expect(await notes()).toEqual([])

  await page.getByRole('button', { name: user.username }).click()
  await page.getByTestId('notify-toggle').click()
  await page.keyboard.press('Escape')
  await page.reload()
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')

  // Three jobs failing together: one notification that counts them.
  await setJobStates(request, token, [jobs[1]!.id, jobs[2]!.id, jobs[3]!.id], 'RUN_ERROR')
  await expect.poll(notes).toEqual([{ title: '3 jobs failed', body: expect.any(String) }])

  // Turned off: no more.
  await page.getByRole('button', { name: user.username }).click()
  await expect(page.getByTestId('notify-toggle')).toContainText('Failure notifications: on')
  await page.screenshot({ path: `${SHOTS}/notifications-toggle.png` })
  await page.getByTestId('notify-toggle').click()
  await page.keyboard.press('Escape')
  await setJobStates(request, token, [jobs[0]!.id], 'RESTART_READY')
  await setJobStates(request, token, [jobs[0]!.id], 'FAILED')
  await expect(page.getByText(/jobs? failed/).first()).toBeVisible()
  await page.waitForTimeout(500)
  expect(await notes()).toHaveLength(1)
})

test('columns can be hidden and views saved, and both survive a reload', async ({
  page,
  request,
}) => {
  const { token, app } = await setUp(page, request, '/jobs')
  await createJobs(request, token, app.id, 2, { exp: 'one' })
  await createJobs(request, token, app.id, 3, { exp: 'two' })
  const table = page.getByTestId('jobs-table')
  await expect(table.getByRole('columnheader', { name: 'Workdir' })).toBeVisible()

  await page.getByTestId('columns-menu').click()
  await page.locator('[data-column="workdir"] input').uncheck()
  await page.locator('[data-column="tags"] input').uncheck()
  await expect(page.locator('[data-column="id"] input')).toBeDisabled()
  await menuOpened(page)
  await page.screenshot({ path: `${SHOTS}/jobs-columns.png` })
  expect(await violations(page)).toEqual([])
  await page.keyboard.press('Escape')
  await expect(table.getByRole('columnheader', { name: 'Workdir' })).toHaveCount(0)
  await expect(table.getByRole('columnheader', { name: 'Tags' })).toHaveCount(0)

  // A filtered, sorted view, saved under a name.
  await page.goto('/jobs?tag=exp:two&sort=id')
  await expect(page.getByTestId('job-count')).toHaveText('3 jobs match')
  await page.getByTestId('views-menu').click()
  await page.getByTestId('save-view').click()
  await page.getByTestId('view-name').locator('input').fill('Second batch')
  await page.getByRole('button', { name: 'Save', exact: true }).click()

  await page.goto('/jobs')
  await page.reload()
  await expect(page.getByTestId('job-count')).toHaveText('5 jobs')
  await expect(table.getByRole('columnheader', { name: 'Workdir' })).toHaveCount(0)
  await page.getByTestId('views-menu').click()
  await expect(page.locator('[data-view="Second batch"]')).toBeVisible()
  await menuOpened(page)
  await page.screenshot({ path: `${SHOTS}/jobs-saved-views.png` })
  expect(await violations(page)).toEqual([])
  await page.locator('[data-view="Second batch"]').click()
  await expect(page).toHaveURL(/tag=exp(%3A|:)two/)
  await expect(page).toHaveURL(/sort=id/)
  await expect(page.getByTestId('job-count')).toHaveText('3 jobs match')
})

test('the Site page shows its queues, backfill windows and scheduler jobs, live', async ({
  page,
  request,
}) => {
  const { token, site } = await setUp(page, request, '/sites')
  await page.getByRole('link', { name: site.name }).click()
  await expect(page).toHaveURL(new RegExp(`/sites/${site.id}$`))
  await expect(page.getByRole('heading', { name: `Site ${site.name}` })).toBeVisible()

  const prod = page.locator('[data-testid="site-queues"] tr[data-queue="prod"]')
  await expect(prod).toContainText('512')
  await expect(prod).toContainText('1,440 min')
  await expect(prod.getByTestId('queue-backfill')).toHaveText(
    '128 nodes × 45 min, 16 nodes × 120 min',
  )
  await expect(prod).toContainText('2 (1 running, 96 nodes)')
  await expect(page.locator('tr[data-queue="debug"]')).toContainText('4 nodes × 30 min')
  await expect(page.getByText('datascience')).toBeVisible()
  await page.screenshot({ path: `${SHOTS}/site-page.png`, fullPage: true })
  expect(await violations(page)).toEqual([])

  // The Site agent reports new backfill: the page follows without a reload.
  const response = await request.put(`/api/v1/sites/${site.id}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { backfill_windows: { debug: [{ num_nodes: 2, wall_time_min: 10 }] } },
  })
  expect(response.status()).toBe(200)
  await expect(page.locator('tr[data-queue="debug"]').getByTestId('queue-backfill')).toHaveText(
    '2 nodes × 10 min',
  )
  await expect(prod.getByTestId('queue-backfill')).toHaveText('none')
})
