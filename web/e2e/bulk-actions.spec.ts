// Bulk actions say what they did to each job, and tag edits merge per job unless asked not to.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

import { createJobs, createSession, logInThroughUi, seedApp, type TestUser } from './fixtures'

/** A user with a Site and an App (a Site named for the moment). */
const setUp = (request: APIRequestContext) => seedApp(request, `bulk-${Date.now().toString(36)}`)

/** Logs in to the Jobs page and selects its two jobs; answers the table. */
async function selectBothJobs(page: Page, user: TestUser) {
  await page.goto('/login?redirect=/jobs')
  await logInThroughUi(page, user)
  const table = page.getByTestId('jobs-table')
  await expect(table.getByRole('row')).toHaveCount(3)
  await table.getByRole('row').nth(1).getByRole('checkbox').check()
  await table.getByRole('row').nth(2).getByRole('checkbox').check()
  return table
}

test('deleting two jobs, one held by a launcher, says one was deleted and one skipped', async ({
  page,
  request,
}) => {
  const { user, token, site, app } = await setUp(request)
  const [free, held] = await createJobs(request, token, app.id, 2)
  // A launcher Session acquires the second job: the server will not delete it.
  const session = await createSession(request, token, site.id, null)
  const acquired = await request.post(`/api/v1/sessions/${session.id}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      max_num_jobs: 1,
      filter_tags: {},
      states: ['STAGED_IN'],
      app_ids: [],
      serial_only: false,
      sort_by: null,
      max_wall_time_min: 0,
      max_nodes_per_job: null,
      max_aggregate_nodes: null,
    },
  })
  expect(acquired.status(), await acquired.text()).toBe(200)
  const [taken] = (await acquired.json()) as { id: number }[]
  const heldId = taken!.id
  const freeId = heldId === held!.id ? free!.id : held!.id

  const table = await selectBothJobs(page, user)
  await page.getByRole('button', { name: 'Delete', exact: true }).click()
  await page.getByTestId('confirm-job-action').click()

  await expect(
    page.getByText('1 of 2 jobs deleted; 1 held by a launcher was skipped.'),
  ).toBeVisible()
  await expect(table.getByRole('row')).toHaveCount(2)
  await expect(table).toContainText(String(heldId))
  await expect(table).not.toContainText(`w/${freeId}`)
})

test('adding a tag keeps the tags the selected jobs do not share', async ({ page, request }) => {
  const { user, token, app } = await setUp(request)
  const [one] = await createJobs(request, token, app.id, 1, { exp: 'a', run: '1' })
  const [two] = await createJobs(request, token, app.id, 1, { exp: 'a', run: '2' })

  const table = await selectBothJobs(page, user)
  await page.getByRole('button', { name: 'Edit tags' }).click()
  const dialog = page.getByTestId('job-tags-dialog')
  await expect(dialog).not.toContainText('Tags are replaced as a whole')
  await dialog.getByRole('button', { name: 'Add a tag' }).click()
  await dialog.getByLabel('Tag 2 key').fill('stage')
  await dialog.getByLabel('Tag 2 value').fill('x')
  await expect(dialog.getByTestId('tag-changes')).toHaveText('Adds stage=x to all 2 jobs.')
  await page.getByTestId('confirm-job-tags').click()
  await expect(page.getByText('Tags changed on 2 jobs.')).toBeVisible()

  for (const [job, run] of [
    [one!, '1'],
    [two!, '2'],
  ] as const) {
    const row = table.getByRole('row').filter({ hasText: job.workdir })
    await expect(row).toContainText('stage=x')
    await expect(row).toContainText(`run=${run}`)
    await expect(row).toContainText('exp=a')
  }
})
