import { expect, test } from '@playwright/test'

import { apiToken, createSite, logInThroughUi, registerUser } from './fixtures'

test('the connection indicator is honest, and REST data loads either way', async ({
  page,
  request,
}) => {
  const user = await registerUser(request)
  const token = await apiToken(request, user)
  await createSite(request, token, 'e2e-rest')

  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)

  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', /^(live|reconnecting)$/)
  await expect(page.getByTestId('sites-table')).toContainText('e2e-rest')
})

test('a Site created through the API appears without reloading', async ({ page, request }) => {
  const user = await registerUser(request)
  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  await expect(page.getByText('No Sites yet')).toBeVisible()

  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).not.toHaveAttribute('data-phase', 'connecting')
  const phase = await indicator.getAttribute('data-phase')
  test.skip(phase !== 'live', 'the server does not offer the event stream yet')

  const token = await apiToken(request, user)
  await createSite(request, token, 'e2e-live')
  await expect(page.getByTestId('sites-table')).toContainText('e2e-live')
})
