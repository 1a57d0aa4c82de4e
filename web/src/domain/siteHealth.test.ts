import { describe, expect, it } from 'vitest'

import { isSiteStale, SITE_STALE_AFTER_MS } from './siteHealth'

describe('isSiteStale', () => {
  const now = Date.UTC(2026, 10, 29, 12, 0, 0)
  const at = (ms: number) => ({ last_refresh: new Date(ms).toISOString().replace('Z', '') })

  it('is active within two minutes of the last refresh and stale after', () => {
    expect(isSiteStale(at(now - SITE_STALE_AFTER_MS), now)).toBe(false)
    expect(isSiteStale(at(now - SITE_STALE_AFTER_MS - 1_000), now)).toBe(true)
  })

  it('treats an unreadable timestamp as stale', () => {
    expect(isSiteStale({ last_refresh: 'garbage' }, now)).toBe(true)
  })
})
