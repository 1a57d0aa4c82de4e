import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'

import { createBatchJob, createSession, logInThroughUi, seedSite } from './fixtures'

test('BatchJobs and Sessions appear live, and say what to do when empty', async ({
  page,
  request,
}) => {
  const { user, token, site } = await seedSite(request, 'bj-site')

  await page.goto('/login?redirect=/batch-jobs')
  await logInThroughUi(page, user)
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
  await expect(page.getByText('No BatchJobs yet')).toBeVisible()

  const bj = await createBatchJob(request, token, site.id)
  const table = page.getByTestId('batch-jobs-table')
  await expect(table).toContainText('pending submission')
  await expect(table).toContainText('debug · e2e-project')
  const patch = await request.put(`/api/v1/batch-jobs/${bj.id}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { state: 'queued', scheduler_id: 123 },
  })
  expect(patch.status(), await patch.text()).toBe(200)
  await expect(table).toContainText('queued')

  await page.getByRole('navigation').getByText('Sessions', { exact: true }).click()
  await expect(page.getByText('No launcher is running')).toBeVisible()
  await createSession(request, token, site.id, bj.id)
  await expect(page.getByTestId('sessions-table')).toContainText('bj-site')
  await expect(page.getByTestId('sessions-table')).toContainText('Ticking')

  await page.getByRole('navigation').getByText('Transfers', { exact: true }).click()
  await expect(page.getByText('No transfers yet')).toBeVisible()

  for (const path of ['/batch-jobs', '/sessions', '/transfers']) {
    await page.goto(path)
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible()
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()
    const serious = results.violations.filter(
      (v) => v.impact === 'serious' || v.impact === 'critical',
    )
    expect(serious.map((v) => `${path}: ${v.id}`)).toEqual([])
  }
})
