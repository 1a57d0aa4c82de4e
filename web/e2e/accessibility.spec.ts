import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'

import { apiToken, createSite, logInThroughUi, registerUser } from './fixtures'

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
}
