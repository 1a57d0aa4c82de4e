import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import type { App } from '@/api/types'

import { useAppsStore } from './apps'

function app(id: number, siteId: number, name: string): App {
  return {
    id,
    site_id: siteId,
    name,
    serialized_class: '',
    source_code: '',
    description: '',
    parameters: {},
    transfers: {},
  }
}

beforeEach(() => setActivePinia(createPinia()))

describe('apps store', () => {
  it('groups Apps by Site, each group ordered by name', () => {
    const apps = useAppsStore()
    apps.applyRows([app(1, 10, 'Zeta'), app(2, 20, 'Beta'), app(3, 10, 'Alpha')])

    expect([...apps.bySite.keys()].sort()).toEqual([10, 20])
    expect(apps.bySite.get(10)?.map((a) => a.name)).toEqual(['Alpha', 'Zeta'])
  })

  it('moves an App between groups when an update changes its Site', () => {
    const apps = useAppsStore()
    apps.applyRows([app(1, 10, 'A')])
    apps.apply({ action: 'update', type: 'app', data: { id: 1, site_id: 20 } })

    expect(apps.bySite.get(10)).toBeUndefined()
    expect(apps.bySite.get(20)?.map((a) => a.id)).toEqual([1])
  })
})
