import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'

import {
  apiToken,
  createApp,
  createJobs,
  createSite,
  logInThroughUi,
  registerUser,
  setJobStates,
} from './fixtures'

/** Serious and critical WCAG A/AA violations on the page as it stands. */
async function violations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join(', ')})`,
    )
}

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
    const user = await registerUser(request)
    const token = await apiToken(request, user)
    const site = await createSite(request, token, 'a11y-jobs')
    const app = await createApp(request, token, site.id, 'A11y')
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
