import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

import { getMemo } from '@/api/getMemo'

import { useJobsStore } from './jobs'
import { useSitesStore } from './sites'
import { clearUserData } from './userData'

beforeEach(() => setActivePinia(createPinia()))

describe('clearUserData', () => {
  it('forgets rows, tombstones, load status and the GET memo', async () => {
    const sites = useSitesStore()
    sites.apply({
      action: 'create',
      type: 'site',
      data: { id: 1, name: 'a', path: '/a', last_refresh: '2026-01-01T00:00:00' },
    })
    sites.apply({ action: 'delete', type: 'site', data: { id: 2 } })
    useJobsStore().apply({
      action: 'bulk-create',
      type: 'job',
      data: [{ id: 5, app_id: 1, state: 'READY', workdir: 'w' }],
    })
    getMemo.setRemembering(true)
    await getMemo.run('/sites/', () => Promise.resolve())

    clearUserData()

    expect(sites.size).toBe(0)
    expect(useJobsStore().size).toBe(0)
    expect(getMemo.has('/sites/')).toBe(false)
    // The tombstone went too: a new login may legitimately see id 2.
    sites.apply({
      action: 'create',
      type: 'site',
      data: { id: 2, name: 'b', path: '/b', last_refresh: '2026-01-01T00:00:00' },
    })
    expect(sites.byId[2]?.name).toBe('b')
  })
})
