// JobTable's rows are its own markup (not Vuetify's row and cell components): these tests pin
// what that markup must still do — select with native checkboxes (range with Shift, a
// select-all whose partial state is the checkbox's own), open a job from its link through the
// router, and show the columns asked for.
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'

import type { JobColumnKey } from '@/domain/jobColumns'
import { makeJob } from '@/test-support/jobFactory'
import { mountView, setUpViewTests, storeLogin } from '@/test-support/mountView'

import JobTable from './JobTable.vue'

setUpViewTests()

const jobs = [makeJob(3, 'RUNNING'), makeJob(2, 'FAILED'), makeJob(1, 'JOB_FINISHED')]

async function render(columns: JobColumnKey[] = ['id', 'state', 'workdir']) {
  const selected = ref<number[]>([])
  const Host = defineComponent({
    setup: () => () =>
      h(JobTable, {
        jobs,
        columns,
        count: jobs.length,
        page: 1,
        perPage: 25,
        perPageOptions: [25],
        loading: false,
        loadingText: 'Loading jobs…',
        ordering: '-id',
        selectable: true,
        selected: selected.value,
        'onUpdate:selected': (ids: number[]) => (selected.value = ids),
      }),
  })
  storeLogin()
  const mounted = await mountView(Host, { at: '/jobs' })
  await flushPromises()
  const rowBox = (id: number) =>
    mounted.wrapper.find<HTMLInputElement>(`tr[data-job-id="${id}"] input[type="checkbox"]`)
  const allBox = () => mounted.wrapper.find<HTMLInputElement>('thead input[type="checkbox"]')
  return { ...mounted, selected, rowBox, allBox }
}

describe('JobTable', () => {
  it('selects rows with their checkboxes, a range with Shift, and says when some are selected', async () => {
    const { selected, rowBox, allBox } = await render()

    await rowBox(3).trigger('click')
    await flushPromises()
    expect(selected.value).toEqual([3])
    expect(rowBox(3).element.checked).toBe(true)
    expect(rowBox(2).element.checked).toBe(false)
    expect(allBox().element.indeterminate).toBe(true)
    expect(allBox().attributes('aria-label')).toBe(
      'Select all jobs on this page (some are selected)',
    )

    await rowBox(1).trigger('click', { shiftKey: true })
    await flushPromises()
    expect([...selected.value].sort()).toEqual([1, 2, 3])
    expect(allBox().element.checked).toBe(true)
    expect(allBox().element.indeterminate).toBe(false)

    await allBox().trigger('change')
    await flushPromises()
    expect(selected.value).toEqual([])
    expect(rowBox(2).element.checked).toBe(false)
    expect(allBox().attributes('aria-label')).toBe('Select all jobs on this page')
  })

  it('names each row checkbox after its job', async () => {
    const { rowBox } = await render()
    expect(rowBox(2).attributes('aria-label')).toBe('Select job 2')
  })

  it('opens a job from its link through the router, and leaves a modified click to the browser', async () => {
    const { wrapper, router } = await render()
    const link = wrapper.find('tr[data-job-id="2"] a')
    expect(link.attributes('href')).toBe('/jobs/2')

    const newTab = new MouseEvent('click', { bubbles: true, cancelable: true, ctrlKey: true })
    link.element.dispatchEvent(newTab)
    await flushPromises()
    expect(newTab.defaultPrevented).toBe(false)
    expect(router.currentRoute.value.fullPath).toBe('/jobs')

    const plain = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.element.dispatchEvent(plain)
    expect(plain.defaultPrevented).toBe(true)
    // The job's page is a lazy route: its chunk loads before the navigation ends.
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/jobs/2'))
  })

  it('shows the columns asked for, in their order, with the state as text on its colour', async () => {
    const { wrapper } = await render(['id', 'state', 'workdir'])
    const cells = wrapper.findAll('tr[data-job-id="2"] td')
    // The checkbox, then one cell per column.
    expect(cells).toHaveLength(4)
    expect(cells[1]?.text()).toBe('2')
    const state = cells[2]?.find('.job-state')
    expect(state?.text()).toBe('FAILED')
    expect(state?.classes()).toContain('job-state--failed')
    expect(state?.classes()).toContain('bg-state-failed')
    expect(cells[3]?.text()).toBe(jobs[1]?.workdir)
    expect(wrapper.findAll('thead th').map((th) => th.text())).toEqual([
      '',
      'Id',
      'State',
      'Workdir',
    ])
  })
})
