// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { listSites } from '@/api/sites'
import type { Site } from '@/api/types'

import { makeSite } from '@/test-support/siteFactory'

import { useSitesStore } from './sites'

vi.mock('@/api/sites')

const site = (id: number, name: string) => makeSite(id, name)

function page(...results: Site[]) {
  return { count: results.length, results }
}

beforeEach(() => {
  setActivePinia(createPinia())
  getMemo.setRemembering(false)
  getMemo.clear()
})

describe('sites store', () => {
  it('loads Sites and lists them by name', async () => {
    vi.mocked(listSites).mockResolvedValue(page(site(1, 'theta'), site(2, 'aurora')))
    const sites = useSitesStore()
    await sites.load()

    expect(sites.list.map((s) => s.name)).toEqual(['aurora', 'theta'])
    expect(sites.loaded).toBe(true)
  })

  it('never evicts on a narrower GET, and lets only a delete event remove a Site', async () => {
    const sites = useSitesStore()
    vi.mocked(listSites).mockResolvedValueOnce(page(site(1, 'a'), site(2, 'b')))
    await sites.load()
    vi.mocked(listSites).mockResolvedValueOnce(page(site(2, 'b2')))
    await sites.load({ id: [2] })

    expect(sites.list.map((s) => s.name)).toEqual(['a', 'b2'])

    sites.apply({ action: 'delete', type: 'site', data: { id: 1 } })
    expect(sites.list.map((s) => s.name)).toEqual(['b2'])
  })

  it('does not repeat a GET while the event stream is live', async () => {
    vi.mocked(listSites).mockResolvedValue(page(site(1, 'a')))
    const sites = useSitesStore()
    getMemo.setRemembering(true)
    await sites.load()
    await sites.load()
    expect(listSites).toHaveBeenCalledTimes(1)

    getMemo.clear() // a resync: refetch
    await sites.load()
    expect(listSites).toHaveBeenCalledTimes(2)
  })

  it('records a failed load without losing what it has', async () => {
    const sites = useSitesStore()
    vi.mocked(listSites).mockResolvedValueOnce(page(site(1, 'a')))
    await sites.load()
    vi.mocked(listSites).mockRejectedValueOnce(new Error('The server answered 500'))

    await expect(sites.load()).resolves.toBe(false)
    expect(sites.error).toBe('The server answered 500')
    expect(sites.size).toBe(1)
  })

  it('applies a list snapshot carrying `seq` without clobbering a newer event', async () => {
    const sites = useSitesStore()
    sites.apply({ action: 'update', type: 'site', data: site(1, 'from-event'), seq: 10 })
    vi.mocked(listSites).mockResolvedValueOnce({ ...page(site(1, 'from-get')), seq: 9 })
    await sites.load()

    expect(sites.byId[1]?.name).toBe('from-event')
  })

  it('lets a complete listing drop Sites deleted in a gap, never ones written after it', async () => {
    const sites = useSitesStore()
    sites.apply({ action: 'create', type: 'site', data: site(1, 'kept'), seq: 3 })
    sites.apply({ action: 'create', type: 'site', data: site(2, 'deleted-in-gap'), seq: 4 })
    sites.apply({ action: 'create', type: 'site', data: site(3, 'newer-than-get'), seq: 12 })
    vi.mocked(listSites).mockResolvedValueOnce({ ...page(site(1, 'kept')), seq: 10 })
    await sites.load()

    expect(sites.list.map((s) => s.name)).toEqual(['kept', 'newer-than-get'])
    // A late event for the dropped Site is older than the listing: it stays gone.
    sites.apply({ action: 'update', type: 'site', data: site(2, 'late'), seq: 8 })
    expect(sites.byId[2]).toBeUndefined()
  })

  it('never drops anything on a filtered or partial listing', async () => {
    const sites = useSitesStore()
    sites.apply({ action: 'create', type: 'site', data: site(1, 'a'), seq: 1 })
    sites.apply({ action: 'create', type: 'site', data: site(2, 'b'), seq: 2 })
    vi.mocked(listSites).mockResolvedValueOnce({ ...page(site(2, 'b')), seq: 5 })
    await sites.load({ name: 'b' })
    vi.mocked(listSites).mockResolvedValueOnce({ count: 2, results: [site(2, 'b')], seq: 5 })
    await sites.load({ limit: 1 })

    expect(sites.size).toBe(2)
  })
})
