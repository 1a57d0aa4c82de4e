import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import { listSites } from '@/api/sites'
import type { Site } from '@/api/types'
import { freezeClockAt, mountView, storeLogin } from '@/test-support/mountView'
import { makeSite } from '@/test-support/siteFactory'

import SitesView from './SitesView.vue'

vi.mock('@/api/sites')

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)

function site(id: number, name: string, minutesAgo: number): Site {
  const refreshed = new Date(NOW - minutesAgo * 60_000).toISOString().replace('Z', '')
  return makeSite(id, name, {
    path: `/projects/${name}`,
    last_refresh: refreshed,
    creation_date: refreshed,
  })
}

async function render(at: string, sites: Site[]) {
  vi.mocked(listSites).mockResolvedValue({ count: sites.length, results: sites })
  storeLogin()
  const mounted = await mountView(SitesView, { at })
  await flushPromises()
  return mounted
}

freezeClockAt(NOW)

describe('SitesView', () => {
  it('lists Sites with path, "n min ago" and UTC on hover', async () => {
    const { wrapper } = await render('/sites', [site(1, 'theta', 1), site(2, 'aurora', 5)])
    const rows = wrapper.findAll('tbody tr')

    expect(rows.map((row) => row.find('td').text())).toEqual(['aurora', 'theta'])
    expect(rows[0]?.text()).toContain('/projects/aurora')
    const time = rows[0]?.find('time')
    expect(time?.text()).toBe('5 min ago')
    expect(time?.attributes('title')).toBe('2026-11-29 11:55:00 UTC')
  })

  it('flags Sites without a refresh in two minutes as stale, in words', async () => {
    const { wrapper } = await render('/sites', [site(1, 'fresh', 1), site(2, 'old', 30)])
    const stale = wrapper.findAll('tbody tr').find((row) => row.text().includes('old'))
    const fresh = wrapper.findAll('tbody tr').find((row) => row.text().includes('fresh'))

    expect(stale?.classes()).toContain('site-row--stale')
    expect(stale?.text()).toContain('Stale')
    expect(fresh?.classes()).not.toContain('site-row--stale')
    expect(fresh?.text()).toContain('Active')
    expect(wrapper.text()).toContain('1 stale')
  })

  it('filters from the URL query string', async () => {
    const { wrapper } = await render('/sites?q=aur', [site(1, 'theta', 1), site(2, 'aurora', 1)])
    const names = wrapper.findAll('tbody tr').map((row) => row.find('td').text())

    expect(names).toEqual(['aurora'])
  })

  it('tells a new user how to create a Site against this server', async () => {
    const { wrapper } = await render('/sites', [])

    expect(wrapper.text()).toContain('No Sites yet')
    expect(wrapper.find('pre').text()).toContain(`balsam login -u ${location.origin}/api/v1`)
    expect(wrapper.find('pre').text()).toContain('balsam site init')
  })

  it('says when Sites could not be loaded', async () => {
    vi.mocked(listSites).mockRejectedValue(new Error('The server answered 502'))
    storeLogin()
    const { wrapper } = await mountView(SitesView, { at: '/sites' })
    await flushPromises()

    expect(wrapper.find('[role="alert"]').text()).toContain('The server answered 502')
  })
})
