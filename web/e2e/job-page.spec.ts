// The Job page is a place to act from: why it failed, how long each state took, and Retry,
// Kill, Edit tags and Delete right there, each saying what it did.
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'

import { createJobs, logInThroughUi, patchJobs, seedApp } from './fixtures'

test('a failed job’s page says why it failed, times each state, and acts on it', async ({
  page,
  request,
}) => {
  const { user, token, app } = await seedApp(request, `job-page-${Date.now().toString(36)}`)
  const [job] = await createJobs(request, token, app.id, 1, { exp: 'a', run: '1' })
  const id = job!.id
  await patchJobs(request, token, [{ id, state: 'PREPROCESSED' }])
  await patchJobs(request, token, [{ id, state: 'RUNNING' }])
  await patchJobs(request, token, [
    { id, state: 'RUN_ERROR', state_data: { message: 'Segfault in rank 3', return_code: 139 } },
  ])

  await page.goto(`/login?redirect=/jobs/${id}`)
  await logInThroughUi(page, user)
  const why = page.getByTestId('job-failure')
  await expect(why).toContainText('Why it failed')
  await expect(why).toContainText('RUN_ERROR')
  await expect(page.getByTestId('failure-message')).toHaveText('Segfault in rank 3')
  await expect(why).toContainText('"return_code": 139')
  // Durations to the second, the current state's still counting.
  const durations = page.getByTestId('state-duration')
  await expect(durations).toHaveCount(4)
  await expect(durations.first()).toHaveText(/^spent \d+ s$/)
  await expect(durations.last()).toHaveText(/^for \d+ s so far$/)
  // Times to the second.
  await expect(page.getByTestId('job-timeline').locator('time').first()).toHaveText(/\d+:\d\d:\d\d/)

  await page.screenshot({ path: 'test-results/screenshots/job-failed.png', fullPage: true })
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(
    serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  ).toEqual([])

  await page.getByRole('button', { name: 'Retry', exact: true }).click()
  await page.getByTestId('confirm-job-action').click()
  await expect(page.getByTestId('job-notice')).toContainText('Retry: 1 job now RESTART_READY.')
  await expect(page.getByTestId('job-state')).toContainText('RESTART_READY')
  await expect(why).toContainText('it has moved on since')

  await page.getByRole('button', { name: 'Edit tags' }).click()
  const dialog = page.getByTestId('job-tags-dialog')
  await dialog.getByRole('button', { name: 'Add a tag' }).click()
  await dialog.getByLabel('Tag 3 key').fill('stage')
  await dialog.getByLabel('Tag 3 value').fill('x')
  await page.getByTestId('confirm-job-tags').click()
  await expect(page.getByText('stage=x')).toBeVisible()
  await expect(page.getByText('run=1')).toBeVisible()

  await page.getByRole('button', { name: 'Delete', exact: true }).click()
  await page.getByTestId('confirm-job-action').click()
  await expect(page).toHaveURL(/\/jobs$/)
})
