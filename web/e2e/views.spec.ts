// Every view with real data, screenshotted into test-results/screenshots/, and the URL as the
// single source of each view's filters (they survive a reload).
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'

import { logInThroughUi } from './fixtures'
import { screenshot, seedTour, type Tour } from './tour'

async function expectNoSeriousViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  const serious = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  )
  expect(
    serious.map(
      (v) =>
        `${what}: ${v.id} ${v.nodes[0]?.target.join(' ')} ${v.nodes[0]?.html} ${v.nodes[0]?.failureSummary}`,
    ),
  ).toEqual([])
}

/** Opens a Vuetify select by its label and picks one option. */
async function pick(page: Page, label: string, option: string) {
  await page.locator('.v-field').filter({ hasText: label }).first().click()
  await page.getByRole('option', { name: option }).click()
  await page.keyboard.press('Escape')
}

async function logIn(page: Page, tour: Tour, to: string) {
  await page.goto(`/login?redirect=${encodeURIComponent(to)}`)
  await logInThroughUi(page, tour.user)
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
}

/** Waits until the lazy charts have drawn (their canvases exist). */
async function chartsDrawn(page: Page) {
  for (const chart of await page
    .locator('.echarts, [data-testid="utilization"], [data-testid="throughput"]')
    .all()) {
    await expect(chart.locator('canvas').first()).toBeAttached()
  }
}

test('every view, screenshotted with data', async ({ page, request }, testInfo) => {
  test.setTimeout(90_000)
  await page.setViewportSize({ width: 1280, height: 900 })
  const tour = await seedTour(request)

  await page.goto('/login')
  await expect(page.getByLabel('Username')).toBeVisible()
  await screenshot(page, testInfo, 'login')

  await logIn(page, tour, '/')
  await expect(page.getByTestId('total-jobs')).toContainText('43 jobs on 2 Sites')
  await expect(page.getByTestId('utilization-summary')).toContainText('allocated')
  await chartsDrawn(page)
  await screenshot(page, testInfo, 'dashboard')

  await page.goto('/jobs?tag=exp:tour')
  await expect(page.getByTestId('job-count')).toHaveText('43 jobs match')
  await screenshot(page, testInfo, 'jobs')

  await page.goto(`/jobs/${tour.jobIds[0]}`)
  await expect(page.getByTestId('job-timeline')).toContainText('RUN_DONE → JOB_FINISHED')
  await screenshot(page, testInfo, 'job')

  await page.goto('/batch-jobs')
  await expect(page.getByTestId('batch-job-count')).toHaveText('4 BatchJobs')
  await screenshot(page, testInfo, 'batch-jobs')

  await page.goto(`/batch-jobs/${tour.runningBatchJobId}`)
  await expect(page.getByTestId('batch-job-job-count')).toHaveText('16 jobs')
  await expect(page.getByTestId('batch-job-timeline')).toBeVisible()
  await chartsDrawn(page)
  await screenshot(page, testInfo, 'batch-job')

  await page.getByRole('button', { name: 'Submit a copy…' }).click()
  await expect(page.getByTestId('submit-batch-job-dialog')).toBeVisible()
  await screenshot(page, testInfo, 'batch-job-submit-dialog')
  await page.keyboard.press('Escape')

  await page.goto('/transfers')
  await expect(page.getByTestId('transfers-table')).toContainText('/data/in-0.dat')
  await screenshot(page, testInfo, 'transfers')

  await page.goto('/apps')
  await expect(page.getByText('Simulate')).toBeVisible()
  await screenshot(page, testInfo, 'apps')

  await page.goto('/sessions')
  await expect(page.getByTestId('sessions-table')).toContainText('polaris')
  await screenshot(page, testInfo, 'sessions')

  await page.goto('/sites')
  await expect(page.getByTestId('sites-table')).toContainText('theta')
  await screenshot(page, testInfo, 'sites')

  await page.goto('/jobs?state=RESTART_READY')
  await expect(page.getByTestId('job-count')).toHaveText('4 jobs match')
  await page.getByTestId('jobs-table').getByRole('row').first().getByRole('checkbox').check()
  await page.getByRole('button', { name: 'Edit tags' }).click()
  await expect(page.getByTestId('job-tags-dialog')).toBeVisible()
  await screenshot(page, testInfo, 'jobs-edit-tags-dialog')
  await page.keyboard.press('Escape')

  await page.goto('/no/such/page')
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
  await screenshot(page, testInfo, 'not-found')
})

test('filters live in the URL and survive a reload', async ({ page, request }) => {
  const tour = await seedTour(request)
  await logIn(page, tour, '/jobs')

  // Jobs: a state and a tag, picked in the UI.
  await pick(page, 'States', 'RESTART_READY')
  const tags = page.getByRole('combobox', { name: 'Tags (key:value)' })
  await tags.fill('exp:tour')
  await tags.press('Enter')
  await expect(page).toHaveURL(/[?&]state=RESTART_READY/)
  await expect(page).toHaveURL(/[?&]tag=exp%3Atour|[?&]tag=exp:tour/)
  await expect(page.getByTestId('job-count')).toHaveText('4 jobs match')

  await page.reload()
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('job-count')).toHaveText('4 jobs match')
  const filters = page.getByRole('search', { name: 'Filter jobs' })
  await expect(filters).toContainText('RESTART_READY')
  await expect(filters).toContainText('exp:tour')

  // Sorting is in the URL too.
  await page.getByRole('columnheader', { name: 'Last update' }).click()
  await expect(page).toHaveURL(/[?&]sort=-?last_update/)
  const sorted = new URL(page.url()).searchParams.get('sort')
  await page.reload()
  expect(new URL(page.url()).searchParams.get('sort')).toBe(sorted)
  await expect(page.getByTestId('job-count')).toHaveText('4 jobs match')

  // BatchJobs: a state filter.
  await page.goto('/batch-jobs')
  await expect(page.getByTestId('batch-job-count')).toHaveText('4 BatchJobs')
  await pick(page, 'States', 'queued')
  await expect(page).toHaveURL(/[?&]state=queued/)
  await expect(page.getByTestId('batch-job-count')).toHaveText('1 BatchJob')
  await page.reload()
  await expect(page.getByTestId('batch-job-count')).toHaveText('1 BatchJob')
  await expect(page.getByRole('search', { name: 'Filter BatchJobs' })).toContainText('queued')
})

test('on a phone: the navigation collapses, nothing scrolls sideways', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(90_000)
  await page.setViewportSize({ width: 390, height: 844 })
  const tour = await seedTour(request)
  await logIn(page, tour, '/')
  await expect(page.getByTestId('total-jobs')).toBeVisible()

  const nav = page.getByRole('navigation', { name: 'Main navigation' })
  // Closed: moved off screen and inert (not reachable by keyboard or screen readers).
  await expect(nav).not.toBeInViewport()
  await expect(nav).toHaveAttribute('inert', '')
  await page.getByRole('button', { name: /navigation/ }).click()
  await expect(nav).toBeInViewport()
  await expect(nav).not.toHaveAttribute('inert')
  await screenshot(page, testInfo, 'phone-navigation')
  await nav.getByText('Jobs', { exact: true }).click()
  await expect(page).toHaveURL(/\/jobs$/)
  await expect(nav).not.toBeInViewport()

  // The Jobs filters fold away behind a button that counts them.
  await page.goto('/jobs?state=RESTART_READY')
  const filters = page.getByRole('search', { name: 'Filter jobs' })
  await expect(filters).toBeHidden()
  const toggle = page.getByRole('button', { name: 'Filters · 1 set' })
  await expect(toggle).toHaveAttribute('aria-expanded', 'false')
  await toggle.click()
  await expect(filters).toBeVisible()
  await expect(filters).toContainText('RESTART_READY')
  await expect(page.getByTestId('job-count')).toHaveText('4 jobs match')
  await page.waitForTimeout(600) // the button's ripple fades (axe would measure it mid-way)
  await expectNoSeriousViolations(page, 'phone Jobs')

  const views: [string, string, () => Promise<void>][] = [
    ['/', 'phone-dashboard', () => expect(page.getByTestId('utilization-summary')).toBeVisible()],
    [
      '/jobs?tag=exp:tour',
      'phone-jobs',
      () => expect(page.getByTestId('job-count')).toHaveText('43 jobs match'),
    ],
    [
      `/jobs/${tour.jobIds[0]}`,
      'phone-job',
      () => expect(page.getByTestId('job-timeline')).toBeVisible(),
    ],
    [
      '/batch-jobs',
      'phone-batch-jobs',
      () => expect(page.getByTestId('batch-job-count')).toBeVisible(),
    ],
    [
      `/batch-jobs/${tour.runningBatchJobId}`,
      'phone-batch-job',
      () => expect(page.getByTestId('batch-job-job-count')).toBeVisible(),
    ],
    [
      '/transfers',
      'phone-transfers',
      () => expect(page.getByTestId('transfer-count')).toBeVisible(),
    ],
    ['/apps', 'phone-apps', () => expect(page.getByText('Simulate').first()).toBeVisible()],
    ['/sessions', 'phone-sessions', () => expect(page.getByTestId('sessions-table')).toBeVisible()],
    ['/sites', 'phone-sites', () => expect(page.getByTestId('sites-table')).toBeVisible()],
  ]
  for (const [path, name, ready] of views) {
    await page.goto(path)
    await ready()
    // What a phone shows first (a full page of stacked rows is very long).
    await screenshot(page, testInfo, name, false)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    )
    expect(overflow, `${path} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0)
    await expectNoSeriousViolations(page, `phone ${path}`)
  }
})
