// Connection state a person can trust: the browser going offline shows at once (not "Live"
// until a heartbeat is missed), and after 10 s of reconnecting a banner says so on the page.
import { expect, test } from '@playwright/test'

import { apiToken, createSite, logInThroughUi, registerUser } from './fixtures'
import { controlStream } from './streamControl'

test('the browser going offline shows at once, and coming back online reconnects', async ({
  page,
  request,
}) => {
  const user = await registerUser(request)
  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')

  await page.context().setOffline(true)
  // At once: well inside the first heartbeat interval (20 s).
  await expect(indicator).toHaveAttribute('data-state', 'offline', { timeout: 1_500 })
  await expect(indicator).toContainText('Offline')

  await page.context().setOffline(false)
  await expect(indicator).toHaveAttribute('data-state', 'live', { timeout: 5_000 })
  const token = await apiToken(request, user)
  await createSite(request, token, 'after-offline')
  await expect(page.getByTestId('sites-table')).toContainText('after-offline')
})

test('after 10 s of reconnecting a banner says so, and leaves when live again', async ({
  page,
  request,
}) => {
  test.setTimeout(45_000)
  const stream = await controlStream(page)
  const user = await registerUser(request)
  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')

  const lost = Date.now()
  await stream.goOffline(1001)
  await expect(indicator).toHaveAttribute('data-phase', 'reconnecting')
  const banner = page.getByTestId('connection-banner')
  await expect(banner).toBeHidden()
  await expect(banner).toBeVisible({ timeout: 15_000 })
  expect(Date.now() - lost).toBeGreaterThanOrEqual(9_500)
  await expect(banner).toContainText(/No live updates for 1\d s/)

  stream.goOnline()
  await banner.getByRole('button', { name: 'Retry now' }).click()
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  await expect(banner).toBeHidden()
})
