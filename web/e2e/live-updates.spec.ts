import { expect, test } from '@playwright/test'

import { apiToken, createSite, logHead, logInThroughUi, registerUser, seedSite } from './fixtures'
import { controlStream } from './streamControl'

test('the connection indicator is honest, and REST data loads', async ({ page, request }) => {
  const { user } = await seedSite(request, 'e2e-rest')

  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)

  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('sites-table')).toContainText('e2e-rest')
})

test('a Site created through the API appears without reloading', async ({ page, request }) => {
  const user = await registerUser(request)
  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  await expect(page.getByText('No Sites yet')).toBeVisible()
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-phase', 'live')

  const token = await apiToken(request, user)
  await createSite(request, token, 'e2e-live')
  await expect(page.getByTestId('sites-table')).toContainText('e2e-live')
})

test('after a dropped socket the client resumes: changes made meanwhile arrive, no refetch', async ({
  page,
  request,
}) => {
  const stream = await controlStream(page)
  const { user, token } = await seedSite(request, 'before-drop')
  const siteGets: string[] = []
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/sites/') siteGets.push(r.url())
  })

  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('sites-table')).toContainText('before-drop')
  expect(stream.hellos[0]).toMatchObject({ op: 'hello', last_seq: null })
  const getsBefore = siteGets.length

  await stream.goOffline(1001)
  await expect(indicator).toHaveAttribute('data-phase', 'reconnecting')
  await expect(indicator).toContainText('Reconnecting')
  await createSite(request, token, 'made-while-offline')
  await page.waitForTimeout(500)
  await expect(page.getByTestId('sites-table')).not.toContainText('made-while-offline')

  stream.goOnline()
  await indicator.click() // "retry now" instead of waiting out the back-off
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('sites-table')).toContainText('made-while-offline')

  const lastHello = stream.hellos.at(-1)
  expect(lastHello?.last_seq).toBeGreaterThan(0)
  expect(stream.welcomes.at(-1)).toMatchObject({ resumed: true })
  // Nothing was lost, so nothing was fetched again: the Site came from the replayed log.
  expect(siteGets.length).toBe(getsBefore)
})

test('a resync clears what was fetched and reloads what is on screen', async ({
  page,
  request,
}) => {
  const stream = await controlStream(page)
  const { user, token } = await seedSite(request, 'first')
  let siteGets = 0
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/sites/') siteGets += 1
  })

  await page.goto('/login?redirect=/sites')
  await logInThroughUi(page, user)
  const indicator = page.getByTestId('connection-indicator')
  await expect(indicator).toHaveAttribute('data-phase', 'live')
  await expect(page.getByTestId('sites-table')).toContainText('first')
  await createSite(request, token, 'second')
  await expect(page.getByTestId('sites-table')).toContainText('second')
  const before = siteGets

  stream.inject({ op: 'resync', seq: await logHead(request, token) })

  await expect(indicator).toHaveAttribute('data-resynced', 'true')
  await expect(indicator).toContainText('Resynced')
  await expect.poll(() => siteGets).toBeGreaterThan(before)
  // Live events keep flowing after the resync.
  await createSite(request, token, 'after-resync')
  await expect(page.getByTestId('sites-table')).toContainText('after-resync')
})
