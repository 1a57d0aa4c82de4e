import { expect, test } from '@playwright/test'

import { apiToken, createSite, logInThroughUi, registerUser } from './fixtures'

test('log in, see a Site created through the API, log out', async ({ page, request }) => {
  const user = await registerUser(request)

  await page.goto('/sites')
  await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)sites$/)
  await logInThroughUi(page, user)

  await expect(page).toHaveURL(/\/sites$/)
  await expect(page.getByText('No Sites yet')).toBeVisible()
  await expect(page.getByText(`balsam login -u ${new URL(page.url()).origin}/api/v1`)).toBeVisible()

  const token = await apiToken(request, user)
  const site = await createSite(request, token, 'e2e-theta')
  expect(page.url()).not.toContain(token)

  // Leaving and coming back refetches unless live updates already delivered the Site.
  await page.getByRole('navigation').getByText('Apps', { exact: true }).click()
  await page.getByRole('navigation').getByText('Sites', { exact: true }).click()
  const row = page.getByTestId('sites-table').getByRole('row', { name: new RegExp(site.name) })
  await expect(row).toContainText(site.path)
  await expect(row).toContainText('just now')
  await expect(row).toContainText('Active')

  await page.getByRole('button', { name: user.username }).click()
  await page.getByRole('menuitem', { name: 'Log out' }).or(page.getByText('Log out')).click()
  await expect(page).toHaveURL(/\/login$/)
  expect(await page.evaluate(() => localStorage.getItem('balsam.auth'))).toBeNull()

  await page.goto('/sites')
  await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)sites$/)
})

test('a wrong password is refused with a message', async ({ page, request }) => {
  const user = await registerUser(request)
  await page.goto('/login')
  await logInThroughUi(page, { ...user, password: 'not-the-password' })

  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.')
  await expect(page).toHaveURL(/\/login$/)
})

test('register through the UI', async ({ page }) => {
  const username = `e2e-ui-${Date.now().toString(36)}`
  await page.goto('/login')
  await page.getByRole('tab', { name: 'Create account' }).click()
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password', { exact: true }).fill('pw-123456')
  await page.getByLabel('Repeat password').fill('pw-123456')
  await page.getByRole('button', { name: 'Create account and log in' }).click()

  await expect(page).toHaveURL(/\/$/)
  await expect(page.getByRole('button', { name: username })).toBeVisible()
})
