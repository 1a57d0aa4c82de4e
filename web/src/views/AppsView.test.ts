import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { listApps } from '@/api/apps'
import { listSites } from '@/api/sites'
import type { App, Site } from '@/api/types'
import { mountView, storeLogin } from '@/test-support/mountView'

import AppsView from './AppsView.vue'

vi.mock('@/api/apps')
vi.mock('@/api/sites')

const theta = { id: 1, name: 'theta', path: '/p/theta', last_refresh: '2026-11-29T12:00:00' }

const hello: App = {
  id: 7,
  site_id: 1,
  name: 'Hello',
  serialized_class: '',
  source_code: '',
  description: 'Says hello',
  parameters: {
    name: { required: true, default: null, help: 'who to greet' },
    N: { required: false, default: '1', help: '' },
  },
  transfers: {
    inp: {
      required: false,
      direction: 'in',
      local_path: 'hello.yml',
      description: '',
      recursive: false,
    },
  },
}

async function render(at: string, apps: App[]) {
  vi.mocked(listSites).mockResolvedValue({ count: 1, results: [theta as unknown as Site] })
  vi.mocked(listApps).mockResolvedValue({ count: apps.length, results: apps })
  storeLogin()
  const mounted = await mountView(AppsView, { at })
  await flushPromises()
  return mounted
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('AppsView', () => {
  it('groups Apps under their Site with parameters and transfer slots', async () => {
    const { wrapper } = await render('/apps', [hello])
    const section = wrapper.find('section')

    expect(section.find('h2').text()).toContain('theta')
    const row = section.find('[data-testid="app-row-7"]')
    expect(row.text()).toContain('Hello')
    expect(row.text()).toContain('Says hello')
    expect(row.text()).toMatch(/name\s*required/)
    expect(row.text()).toMatch(/N\s*=\s*1/)
    expect(row.text()).toMatch(/inp\s*stage in to\s*hello\.yml\s*\(optional\)/)
  })

  it('filters by Site from the URL', async () => {
    const { wrapper } = await render('/apps?site=2', [hello])

    expect(wrapper.findAll('section')).toHaveLength(0)
    expect(wrapper.text()).toContain('No App matches these filters.')
  })

  it('explains how Apps get here when there are none', async () => {
    const { wrapper } = await render('/apps', [])

    expect(wrapper.text()).toContain('No Apps yet')
    expect(wrapper.text()).toContain('ApplicationDefinition')
  })
})
