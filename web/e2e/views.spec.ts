// Every view with real data, screenshotted into test-results/screenshots/, and the URL as the
// single source of each view's filters (they survive a reload).
import { expect, test, type Page } from '@playwright/test'

import { logInThroughUi } from './fixtures'
import { screenshot, seedTour, type Tour } from './tour'

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
