// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { listApps } from '@/api/apps'
import {
  deleteJobs,
  listJobs,
  readJobs,
  replaceJobTags,
  setEachJobTags,
  setJobStates,
} from '@/api/jobs'
import type * as JobsApi from '@/api/jobs'
import { listSites } from '@/api/sites'
import { LIVE_TABLE_INTERVAL_MS } from '@/composables/useCoalesced'
import type { App, Job, Site } from '@/api/types'
import { useJobsStore } from '@/stores/jobs'
import { makeJob } from '@/test-support/jobFactory'
import { mountView, setUpViewTests, storeLogin } from '@/test-support/mountView'

import JobsView from './JobsView.vue'

vi.mock('@/api/jobs', async (original) => ({
  ...(await original<typeof JobsApi>()),
  listJobs: vi.fn(),
  setJobStates: vi.fn(),
  deleteJobs: vi.fn(),
  setJobStatesWhere: vi.fn(),
  deleteJobsWhere: vi.fn(),
  replaceJobTags: vi.fn(),
  replaceJobTagsWhere: vi.fn(),
  setEachJobTags: vi.fn(),
  readJobs: vi.fn(() => Promise.resolve([])),
}))
vi.mock('@/api/apps')
vi.mock('@/api/sites')

const theta = { id: 1, name: 'theta', path: '/p', last_refresh: '2026-11-29T12:00:00' }
const hello = { id: 1, site_id: 1, name: 'Hello', parameters: {}, transfers: {} }

async function render(at: string, jobs: Job[], count = jobs.length) {
  vi.mocked(listSites).mockResolvedValue({ count: 1, results: [theta as unknown as Site] })
  vi.mocked(listApps).mockResolvedValue({ count: 1, results: [hello as unknown as App] })
  vi.mocked(listJobs).mockResolvedValue({ count, results: jobs, seq: 10 })
  storeLogin()
  const mounted = await mountView(JobsView, { at })
  await flushPromises()
  return mounted
}

/** Lets the table's coalesced refresh (at most every LIVE_TABLE_INTERVAL_MS) catch up. */
async function settle() {
  await new Promise((resolve) => setTimeout(resolve, LIVE_TABLE_INTERVAL_MS + 20))
  await flushPromises()
}

/** Two jobs (one tagged run=1 besides exp=a), both selected, and the tags dialog open. */
async function openTagsOnTwoJobs() {
  const { wrapper } = await render('/jobs', [
    makeJob(2, 'READY', { tags: { exp: 'a', run: '1' } }),
    makeJob(1, 'READY', { tags: { exp: 'a' } }),
  ])
  const boxes = wrapper.findAll('tbody input[type="checkbox"]')
  await boxes[0]?.trigger('click')
  await boxes[1]?.trigger('click')
  await wrapper
    .findAll('button')
    .find((b) => b.text() === 'Edit tags')
    ?.trigger('click')
  await flushPromises()
}

const ids = (wrapper: Awaited<ReturnType<typeof render>>['wrapper']) =>
  wrapper.findAll('tbody tr').map((row) => row.findAll('td')[1]?.text())

setUpViewTests()

describe('JobsView', () => {
  it('asks the server for the page the URL describes', async () => {
    await render(
      '/jobs?state=FAILED&state=RUN_ERROR&tag=exp:a&site=1&sort=-last_update&page=2&per=25',
      [],
    )

    expect(listJobs).toHaveBeenCalledWith({
      site_id: [1],
      state: ['FAILED', 'RUN_ERROR'],
      tags: ['exp:a'],
      ordering: '-last_update',
      limit: 25,
      offset: 25,
    })
  })

  it('asks for a new order once, with the click, and keeps the answered page until it comes', async () => {
    const { wrapper, router } = await render('/jobs', [makeJob(2, 'READY'), makeJob(1, 'READY')])
    vi.mocked(listJobs).mockClear()
    let answer: (page: { count: number; results: Job[]; seq: number }) => void = () => {}
    vi.mocked(listJobs).mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))

    const idHeader = wrapper.findAll('th').find((th) => th.text().startsWith('Id'))
    await idHeader?.find('.v-data-table-header__content').trigger('click')
    // The GET is out before the router has navigated (the click's own task).
    expect(listJobs).toHaveBeenCalledTimes(1)
    expect(listJobs).toHaveBeenCalledWith({ ordering: 'id', limit: 50, offset: 0 })
    await vi.waitFor(() => expect(router.currentRoute.value.query.sort).toBe('id'))
    await flushPromises()
    // Not the old page re-sorted: the rows stay as answered until the new page is in.
    expect(ids(wrapper)).toEqual(['2', '1'])

    answer({ count: 2, results: [makeJob(1, 'READY'), makeJob(2, 'READY')], seq: 10 })
    await flushPromises()
    expect(ids(wrapper)).toEqual(['1', '2'])
    expect(listJobs).toHaveBeenCalledTimes(1)
  })

  it('shows the page’s rows with state, App and Site, and follows events in place', async () => {
    const { wrapper } = await render('/jobs', [makeJob(2, 'RUNNING'), makeJob(1, 'READY')])
    expect(ids(wrapper)).toEqual(['2', '1'])
    expect(wrapper.find('tbody tr').text()).toContain('RUNNING')
    expect(wrapper.find('tbody tr').text()).toContain('Hello')
    expect(wrapper.find('tbody tr').text()).toContain('theta')

    const jobs = useJobsStore()
    jobs.apply({ action: 'bulk-update', type: 'job', data: [makeJob(2, 'RUN_DONE')], seq: 11 })
    jobs.apply({ action: 'bulk-create', type: 'job', data: [makeJob(3, 'STAGED_IN')], seq: 12 })
    await settle()

    expect(ids(wrapper)).toEqual(['3', '2', '1'])
    expect(wrapper.findAll('tbody tr')[1]?.text()).toContain('RUN_DONE')
    expect(wrapper.find('[data-testid="job-count"]').text()).toBe('3 jobs')
  })

  it('drops jobs that leave the filter, as their events arrive', async () => {
    const { wrapper } = await render('/jobs?state=RUN_ERROR', [
      makeJob(2, 'RUN_ERROR'),
      makeJob(1, 'RUN_ERROR'),
    ])
    useJobsStore().apply({
      action: 'bulk-update',
      type: 'job',
      data: [makeJob(2, 'RESTART_READY')],
      seq: 11,
    })
    await settle()

    expect(ids(wrapper)).toEqual(['1'])
    expect(wrapper.find('[data-testid="job-count"]').text()).toBe('1 job match')
  })

  it('confirms an action with the number of jobs it touches, then runs it', async () => {
    const { wrapper } = await render('/jobs', [makeJob(2, 'RUN_ERROR'), makeJob(1, 'JOB_FINISHED')])
    const boxes = wrapper.findAll('tbody input[type="checkbox"]')
    await boxes[0]?.trigger('click')
    await boxes[1]?.trigger('click')
    expect(wrapper.find('[data-testid="selection"]').text()).toBe('2 jobs selected')

    const retry = wrapper.findAll('button').find((b) => b.text() === 'Retry')
    await retry?.trigger('click')
    await flushPromises()
    const dialog = document.querySelector('[data-testid="job-action-dialog"]')
    expect(dialog?.textContent).toContain('Retry 2 jobs?')
    expect(dialog?.textContent).toContain('1 job is JOB_FINISHED now.')

    ;(document.querySelector('[data-testid="confirm-job-action"]') as HTMLElement).click()
    await flushPromises()
    expect(setJobStates).toHaveBeenCalledWith([2, 1], 'RESTART_READY')
    expect(deleteJobs).not.toHaveBeenCalled()
  })

  it('reports per job what a delete did: one held by a launcher is skipped, not "done"', async () => {
    const held = makeJob(1, 'RUNNING', { session_id: 4 })
    const { wrapper } = await render('/jobs', [makeJob(2, 'RUN_ERROR'), held])
    vi.mocked(readJobs).mockResolvedValue([{ count: 1, results: [held], seq: 12 }])
    const boxes = wrapper.findAll('tbody input[type="checkbox"]')
    await boxes[0]?.trigger('click')
    await boxes[1]?.trigger('click')
    await wrapper
      .findAll('button')
      .find((b) => b.text() === 'Delete')
      ?.trigger('click')
    await flushPromises()
    ;(document.querySelector('[data-testid="confirm-job-action"]') as HTMLElement).click()
    await flushPromises()

    expect(deleteJobs).toHaveBeenCalledWith([2, 1])
    expect(readJobs).toHaveBeenCalledWith([2, 1])
    expect(document.body.textContent).toContain(
      '1 of 2 jobs deleted; 1 held by a launcher was skipped.',
    )
    expect(document.body.textContent).not.toContain('2 jobs done')
  })

  it('tells a new user how to create jobs', async () => {
    const { wrapper } = await render('/jobs', [])

    expect(wrapper.text()).toContain('No jobs yet')
    expect(wrapper.text()).toContain('balsam job create')
  })

  it('merges a tag edit into each job’s own tags by default', async () => {
    await openTagsOnTwoJobs()
    const dialog = () => document.querySelector('[data-testid="job-tags-dialog"]')
    expect(dialog()?.textContent).not.toContain('Tags are replaced as a whole')
    // Add stage=x in a new row.
    const addButton = [...document.querySelectorAll<HTMLElement>('button')].find(
      (b) => b.textContent?.trim() === 'Add a tag',
    )
    addButton?.click()
    await flushPromises()
    const inputs = [...document.querySelectorAll<HTMLInputElement>('[data-testid="tag-row"] input')]
    inputs.at(-2)!.value = 'stage'
    inputs.at(-2)!.dispatchEvent(new Event('input'))
    inputs.at(-1)!.value = 'x'
    inputs.at(-1)!.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(dialog()?.textContent).toContain('Adds stage=x to all 2 jobs.')
    expect(dialog()?.textContent).not.toContain('Removes run=1')

    ;(document.querySelector('[data-testid="confirm-job-tags"]') as HTMLElement).click()
    await flushPromises()
    expect(setEachJobTags).toHaveBeenCalledWith([
      { id: 2, tags: { exp: 'a', run: '1', stage: 'x' } },
      { id: 1, tags: { exp: 'a', stage: 'x' } },
    ])
    expect(replaceJobTags).not.toHaveBeenCalled()
  })

  it('replaces tags as a whole when asked, saying what each job loses before writing', async () => {
    await openTagsOnTwoJobs()

    const dialog = () => document.querySelector('[data-testid="job-tags-dialog"]')
    ;(document.querySelector('[data-testid="replace-all-tags"] input') as HTMLElement).click()
    await flushPromises()
    expect(dialog()?.textContent).toContain('Tags are replaced as a whole')
    expect(dialog()?.textContent).toContain('the list starts with the tags they share')
    const inputs = () => [
      ...document.querySelectorAll<HTMLInputElement>('[data-testid="tag-row"] input'),
    ]
    expect(inputs().map((input) => input.value)).toEqual(['exp', 'a'])
    expect(dialog()?.textContent).toContain('Removes run=1 from 1 of 2 jobs.')

    const value = inputs()[1]!
    value.value = 'b'
    value.dispatchEvent(new Event('input'))
    await flushPromises()
    expect(dialog()?.textContent).toContain('Changes exp to b on all 2 jobs.')

    ;(document.querySelector('[data-testid="confirm-job-tags"]') as HTMLElement).click()
    await flushPromises()
    expect(replaceJobTags).toHaveBeenCalledWith([2, 1], { exp: 'b' })
  })
})
