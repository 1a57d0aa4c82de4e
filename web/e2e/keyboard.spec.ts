// The app without a mouse: log in, skip to the content, move between pages (focus lands on
// each page's heading), select jobs, act on them and back out of a dialog, sort, open a job.
import { expect, test, type Page } from '@playwright/test'

import { createJobs, seedApp } from './fixtures'

interface Target {
  tag: string
  /** The element's trimmed text. */
  text?: string
  /** Inside a table body. */
  inRow?: boolean
}

/**
 * Presses Tab (Shift+Tab with `back`) until the focused element is `target`, at most `limit`
 * times. Each press is two round trips to the browser, so the test goes the short way round.
 */
async function tabTo(page: Page, target: Target, { back = false, limit = 80 } = {}) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const hit = await page.evaluate(({ tag, text, inRow }) => {
      const el = document.activeElement
      if (el === null || el.tagName !== tag) return false
      if (text !== undefined && el.textContent?.trim() !== text) return false
      return !inRow || el.closest('tbody') !== null
    }, target)
    if (hit) return
  }
  throw new Error(`Tab never reached ${JSON.stringify(target)}`)
}

const focusedText = (page: Page) =>
  page.evaluate(() => document.activeElement?.textContent?.trim() ?? '')

test('everything a user needs is reachable and usable from the keyboard', async ({
  page,
  request,
}) => {
  const { user, token, app } = await seedApp(request, 'keyboard-site')
  const jobs = await createJobs(request, token, app.id, 3)

  // Log in: the username field has focus; Tab to the password; Enter submits. (The text goes
  // in as one input each, not key by key: what is under test is focus and Enter.)
  await page.goto('/login')
  await expect(page.getByLabel('Username')).toBeFocused()
  await page.keyboard.insertText(user.username)
  await page.keyboard.press('Tab')
  await page.keyboard.insertText(user.password)
  await page.keyboard.press('Enter')
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()

  // The first Tab stop skips the navigation.
  await page.keyboard.press('Tab')
  const skip = page.getByRole('link', { name: 'Skip to main content' })
  await expect(skip).toBeFocused()
  await expect(skip).toBeInViewport()
  await page.keyboard.press('Enter')
  await expect(page.locator('main')).toBeFocused()

  // To the Jobs page through the navigation, back from the main region; focus lands on its
  // heading.
  await tabTo(page, { tag: 'A', text: 'Jobs' }, { back: true })
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/\/jobs$/)
  await expect(page.getByRole('heading', { level: 1, name: 'Jobs' })).toBeFocused()
  const table = page.getByTestId('jobs-table')
  for (const job of jobs) await expect(table).toContainText(job.workdir)

  // Select the first job with Space, open Retry with Enter, back out with Escape.
  await tabTo(page, { tag: 'INPUT', inRow: true })
  await page.keyboard.press('Space')
  await expect(page.getByTestId('selection')).toHaveText('1 job selected')
  await tabTo(page, { tag: 'BUTTON', text: 'Retry' }, { back: true })
  await page.keyboard.press('Enter')
  const dialog = page.getByTestId('job-action-dialog')
  await expect(dialog).toContainText('Retry 1 job?')
  await expect
    .poll(() => page.evaluate(() => document.activeElement?.closest('.v-overlay') !== null))
    .toBe(true)
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  expect(await focusedText(page)).toBe('Retry')

  // Sort by a column header with Enter: the order goes into the URL.
  await tabTo(page, { tag: 'TH', text: 'Id' })
  await page.keyboard.press('Enter')
  await expect(page).toHaveURL(/sort=id/)

  // Open a job from its link; focus lands on the job's heading.
  const first = String(jobs[0]!.id)
  await page.locator('body').focus()
  await tabTo(page, { tag: 'A', text: first })
  await page.keyboard.press('Enter')
  await expect(page.getByRole('heading', { level: 1, name: `Job ${first}` })).toBeFocused()
})
