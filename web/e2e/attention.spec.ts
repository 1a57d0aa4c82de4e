// What needs attention reaches the user without looking for it: jobs failing while the page is
// open raise a banner and a counter in the tab's title; the theme follows the system's.
import { expect, test } from '@playwright/test'

import {
  createJobs,
  createSite,
  logInThroughUi,
  registerUser,
  seedApp,
  seedSite,
  setJobStates,
} from './fixtures'

test('jobs failing while the page is open raise a banner and a tab-title counter', async ({
  page,
  request,
}) => {
  const { user, token, app } = await seedApp(request, 'attention')
  const jobs = await createJobs(request, token, app.id, 3)
  await page.goto('/login')
  await logInThroughUi(page, user)
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
  await expect(page).toHaveTitle('Dashboard · Balsam')

  await setJobStates(request, token, [jobs[0]!.id, jobs[1]!.id], 'FAILED')
  const banner = page.getByTestId('failure-banner')
  await expect(banner).toContainText('2 jobs failed since you opened this page')
  await expect(page).toHaveTitle('(2 failed) Dashboard · Balsam')

  await banner.getByRole('link', { name: 'See the failed jobs' }).click()
  await expect(page).toHaveURL(/\/jobs\?.*state=FAILED/)
  await expect(page).toHaveTitle('(2 failed) Jobs · Balsam')
  await page.getByTestId('failure-banner').getByRole('button', { name: 'Dismiss' }).click()
  await expect(page.getByTestId('failure-banner')).toBeHidden()
  await expect(page).toHaveTitle('Jobs · Balsam')
})

test('the theme follows the system’s light or dark setting, also while open', async ({
  page,
  request,
}) => {
  const user = await registerUser(request)
  await page.emulateMedia({ colorScheme: 'light' })
  await page.goto('/login')
  await logInThroughUi(page, user)
  const app = page.locator('.v-application')
  await expect(app).toHaveClass(/v-theme--light/)
  await page.emulateMedia({ colorScheme: 'dark' })
  await expect(app).toHaveClass(/v-theme--dark/)
  await page.emulateMedia({ colorScheme: 'light' })
  await expect(app).toHaveClass(/v-theme--light/)
})

test('pausing live updates holds the page still; resuming applies what came meanwhile', async ({
  page,
  request,
}) => {
  const { user, token } = await seedSite(request, 'before-pause')
  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  const table = page.getByTestId('sites-table')
  await expect(table).toContainText('before-pause')

  await page.getByRole('button', { name: 'Pause live updates' }).click()
  await expect(indicator).toHaveAttribute('data-state', 'paused')
  await createSite(request, token, 'while-paused')
  await expect(indicator).toContainText('Paused · 1 waiting')
  await expect(table).not.toContainText('while-paused')

  await page.getByRole('button', { name: /^Resume live updates/ }).click()
  await expect(table).toContainText('while-paused')
  await expect(indicator).toHaveAttribute('data-state', 'live')
})
