// Export of the filtered Jobs view: the server streams every matching job (not only the page
// on screen). Chromium writes the stream into the file the user picks (File System Access
// API); a browser without it saves it as a download.
import { readFile } from 'node:fs/promises'

import { expect, test } from '@playwright/test'

import { createJobs, logInThroughUi, seedApp, setJobStates } from './fixtures'

test('Without a file picker, Export downloads every job the filters match, as CSV and as JSON', async ({
  page,
  request,
}) => {
  // A browser without the File System Access API (Firefox, Safari).
  await page.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker
  })
  const { user, token, app } = await seedApp(request, `site-${Date.now().toString(36)}`)
  const wanted = await createJobs(request, token, app.id, 60, { exp: 'keep' })
  await createJobs(request, token, app.id, 5, { exp: 'other' })
  await setJobStates(
    request,
    token,
    wanted.slice(0, 3).map((job) => job.id),
    'FAILED',
  )

  // 57 match, more than the 25 rows a page shows.
  await page.goto(`/login?redirect=${encodeURIComponent('/jobs?tag=exp:keep&state=STAGED_IN')}`)
  await logInThroughUi(page, user)
  await expect(page.getByTestId('job-count')).toHaveText('57 jobs match')

  await page.getByTestId('export-jobs').click()
  await expect(page.getByTestId('export-csv')).toContainText('CSV (57 jobs)')
  await page.screenshot({ path: 'test-results/screenshots/jobs-export-menu.png' })
  const [csvDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-csv').click(),
  ])
  expect(csvDownload.suggestedFilename()).toMatch(/^balsam-jobs-.*\.csv$/)
  const csv = await readFile(await csvDownload.path(), 'utf8')
  const lines = csv.split('\r\n').filter((line) => line !== '')
  expect(lines[0]).toMatch(/^id,app_id,workdir,state,tags,/)
  const ids = lines.slice(1).map((line) => Number(line.split(',')[0]))
  const expected = wanted
    .slice(3)
    .map((job) => job.id)
    .sort((a, b) => a - b)
  expect(ids).toEqual(expected)
  expect(lines.slice(1).every((line) => line.includes(',STAGED_IN,'))).toBe(true)
  await expect(page.getByTestId('export-status')).toContainText('Exported 57 jobs')

  await page.getByTestId('export-jobs').click()
  const [jsonDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-json').click(),
  ])
  const rows = JSON.parse(await readFile(await jsonDownload.path(), 'utf8')) as {
    id: number
    tags: Record<string, string>
  }[]
  expect(rows.map((row) => row.id)).toEqual(expected)
  expect(rows.every((row) => row.tags.exp === 'keep')).toBe(true)
})

test('In Chromium, Export streams every matching job into the file the user picks', async ({
  page,
  request,
}) => {
  // The picker is the one thing a headless browser cannot show: it is answered with a real
  // file (in the origin-private file system), which the page then writes as it would any.
  await page.addInitScript(() => {
    const w = window as unknown as {
      showSaveFilePicker: (options: { suggestedName: string }) => Promise<FileSystemFileHandle>
      picked?: string
    }
    w.showSaveFilePicker = async ({ suggestedName }) => {
      w.picked = suggestedName
      const dir = await navigator.storage.getDirectory()
      return dir.getFileHandle(suggestedName, { create: true })
    }
  })
  const { user, token, app } = await seedApp(request, `site-${Date.now().toString(36)}`)
  const wanted = await createJobs(request, token, app.id, 40, { exp: 'stream' })
  await createJobs(request, token, app.id, 3, { exp: 'other' })
  await page.goto(`/login?redirect=${encodeURIComponent('/jobs?tag=exp:stream')}`)
  await logInThroughUi(page, user)
  await expect(page.getByTestId('job-count')).toHaveText('40 jobs match')

  let downloads = 0
  page.on('download', () => (downloads += 1))
  await page.getByTestId('export-jobs').click()
  await page.getByTestId('export-csv').click()
  await expect(page.getByTestId('export-status')).toContainText(
    /Exported 40 jobs as balsam-jobs-.*\.csv/,
  )

  const csv = await page.evaluate(async () => {
    const name = (window as unknown as { picked: string }).picked
    const dir = await navigator.storage.getDirectory()
    return (await (await dir.getFileHandle(name)).getFile()).text()
  })
  const lines = csv.split('\r\n').filter((line) => line !== '')
  expect(lines[0]).toMatch(/^id,app_id,workdir,state,tags,/)
  expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(
    wanted.map((job) => job.id).sort((a, b) => a - b),
  )
  expect(downloads).toBe(0)
})
