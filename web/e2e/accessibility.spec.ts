import { expect, test } from '@playwright/test'

import {
  apiToken,
  createJobs,
  createSite,
  logInThroughUi,
  registerUser,
  seedApp,
  setJobStates,
  violations,
} from './fixtures'
import { seedTour } from './tour'

for (const colorScheme of ['light', 'dark'] as const) {
  test(`login, Sites and Apps have no serious accessibility violations (${colorScheme})`, async ({
    page,
    request,
  }) => {
    await page.emulateMedia({ colorScheme })
    const user = await registerUser(request)
    await createSite(request, await apiToken(request, user), 'a11y-site')

    await page.goto('/login')
    await expect(page.getByLabel('Username')).toBeVisible()
    expect(await violations(page)).toEqual([])

    await logInThroughUi(page, user)
    await expect(page).toHaveURL(/\/$/)
    await page.goto('/sites')
    await expect(page.getByTestId('sites-table')).toContainText('a11y-site')
    expect(await violations(page)).toEqual([])

    await page.goto('/apps')
    await expect(page.getByText('No Apps yet')).toBeVisible()
    expect(await violations(page)).toEqual([])
  })

  test(`dashboard, Jobs and a job have no serious accessibility violations (${colorScheme})`, async ({
    page,
    request,
  }) => {
    await page.emulateMedia({ colorScheme })
    const { user, token, app } = await seedApp(request, 'a11y-jobs', 'A11y')
    const jobs = await createJobs(request, token, app.id, 8, { exp: 'a11y' })
    await setJobStates(request, token, [jobs[0]!.id], 'RUNNING')
    await setJobStates(request, token, [jobs[1]!.id], 'JOB_FINISHED')
    await setJobStates(request, token, [jobs[2]!.id], 'RUN_ERROR')
    await setJobStates(request, token, [jobs[3]!.id], 'FAILED')

    await page.goto('/login')
    await logInThroughUi(page, user)
    await expect(page.getByTestId('site-health')).toContainText('8 jobs')
    await expect(page.getByTestId('throughput-summary')).toBeVisible()
    expect(await violations(page)).toEqual([])

    await page.goto('/jobs')
    await expect(page.getByTestId('jobs-table')).toContainText('RUN_ERROR')
    expect(await violations(page)).toEqual([])

    await page.goto(`/jobs/${jobs[2]!.id}`)
    await expect(page.getByTestId('job-timeline')).toContainText('RUN_ERROR')
    expect(await violations(page)).toEqual([])
  })
}

/** A lived-in account: every view, and every dialog and menu open, in both themes. */
for (const colorScheme of ['light', 'dark'] as const) {
  test(`every view and open dialog has no serious accessibility violations (${colorScheme})`, async ({
    page,
    request,
  }) => {
    test.setTimeout(120_000)
    await page.emulateMedia({ colorScheme })
    const tour = await seedTour(request)
    const found: string[] = []
    async function check(what: string) {
      for (const v of await violations(page)) found.push(`${what}: ${v}`)
    }

    await page.goto('/login?redirect=/')
    await logInThroughUi(page, tour.user)
    await expect(page.getByTestId('total-jobs')).toContainText('43 jobs')
    await expect(page.getByTestId('utilization-summary')).toContainText('allocated')
    await check('dashboard')

    await page.goto('/jobs?tag=exp:tour')
    await expect(page.getByTestId('job-count')).toHaveText('43 jobs match')
    await check('jobs')
    const table = page.getByTestId('jobs-table')
    await table.getByRole('row').nth(1).getByRole('checkbox').check()
    await check('jobs, some selected (select-all partial)')
    await page.getByRole('button', { name: 'Retry', exact: true }).click()
    await expect(page.getByRole('dialog', { name: 'Retry 1 job?' })).toBeVisible()
    await check('retry dialog')
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Edit tags' }).click()
    await expect(page.getByRole('dialog', { name: 'Edit the tags of 1 job' })).toBeVisible()
    await check('tags dialog')
    await page.keyboard.press('Escape')
    await page.locator('.v-field').filter({ hasText: 'States' }).first().click()
    await expect(page.getByRole('option').first()).toBeVisible()
    await check('States menu')
    await page.keyboard.press('Escape')

    await page.goto(`/jobs/${tour.jobIds[0]}`)
    await expect(page.getByTestId('job-timeline')).toBeVisible()
    await check('job')

    await page.goto('/batch-jobs')
    await expect(page.getByTestId('batch-job-count')).toHaveText('4 BatchJobs')
    await check('batch-jobs')
    await page.getByRole('button', { name: 'New BatchJob' }).click()
    await expect(page.getByRole('dialog', { name: 'Submit a BatchJob' })).toBeVisible()
    await check('new BatchJob dialog')
    await page.keyboard.press('Escape')

    await page.goto(`/batch-jobs/${tour.runningBatchJobId}`)
    await expect(page.getByTestId('batch-job-job-count')).toHaveText('16 jobs')
    await check('batch-job')
    await page
      .getByRole('button', { name: /^Cancel/ })
      .first()
      .click()
    await expect(page.getByTestId('confirm-dialog')).toBeVisible()
    await expect(page.getByRole('dialog', { name: /BatchJob/ })).toBeVisible()
    await check('cancel BatchJob dialog')
    await page.keyboard.press('Escape')

    for (const [path, ready] of [
      ['/transfers', 'transfers-table'],
      ['/sessions', 'sessions-table'],
      ['/sites', 'sites-table'],
    ] as const) {
      await page.goto(path)
      await expect(page.getByTestId(ready)).toBeVisible()
      await check(path)
    }
    await page.goto('/apps')
    await expect(page.getByText('Simulate')).toBeVisible()
    await check('apps')

    // Stale Sites: the page's clock a few minutes ahead, so no Site has refreshed lately.
    await page.clock.install({ time: Date.now() + 5 * 60_000 })
    await page.goto('/')
    await expect(page.getByText('Stale').first()).toBeVisible()
    await check('dashboard, stale Sites')
    await page.goto('/sites')
    await expect(page.getByTestId('sites-table')).toContainText('Stale')
    await check('Sites, stale')

    expect(found).toEqual([])
  })
}
