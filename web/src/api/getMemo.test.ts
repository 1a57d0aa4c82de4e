// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { describe, expect, it, vi } from 'vitest'

import { GetMemo, memoKey } from './getMemo'

const ok = () => vi.fn(() => Promise.resolve())

describe('GetMemo', () => {
  it('does not repeat a GET while remembering (the stream has a resume point)', async () => {
    const memo = new GetMemo()
    memo.setRemembering(true)
    const fetch = ok()
    await memo.run('/sites/', fetch)
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('answers a repeated GET with what the first one answered', async () => {
    const memo = new GetMemo()
    memo.setRemembering(true)
    const fetch = vi.fn(() => Promise.resolve({ ids: [1, 2] }))
    await memo.run('/jobs/', fetch)

    await expect(memo.run('/jobs/', fetch)).resolves.toEqual({ ids: [1, 2] })
    expect(fetch).toHaveBeenCalledOnce()
  })

  it('repeats GETs while not remembering (nothing would keep the data current)', async () => {
    const memo = new GetMemo()
    const fetch = ok()
    await memo.run('/sites/', fetch)
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('shares one request between concurrent callers even when not remembering', async () => {
    const memo = new GetMemo()
    const fetch = ok()
    await Promise.all([memo.run('/sites/', fetch), memo.run('/sites/', fetch)])

    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('keeps what it remembered when remembering is switched off and on (a resumed drop)', async () => {
    const memo = new GetMemo()
    memo.setRemembering(true)
    const fetch = ok()
    await memo.run('/sites/', fetch)
    memo.setRemembering(false)
    memo.setRemembering(true)
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('forgets everything on clear (a resync), including GETs in flight', async () => {
    const memo = new GetMemo()
    memo.setRemembering(true)
    const fetch = ok()
    await memo.run('/sites/', fetch)
    let finish = () => undefined as void
    const pending = memo.run('/apps/', () => new Promise<void>((resolve) => (finish = resolve)))
    memo.clear()
    finish()
    await pending

    expect(memo.has('/sites/')).toBe(false)
    expect(memo.has('/apps/')).toBe(false)
    await memo.run('/sites/', fetch)
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('does not keep a GET that started before remembering began', async () => {
    const memo = new GetMemo()
    let finish = () => undefined as void
    const pending = memo.run('/apps/', () => new Promise<void>((resolve) => (finish = resolve)))
    memo.setRemembering(true)
    finish()
    await pending

    expect(memo.has('/apps/')).toBe(false)
  })

  it('never remembers a failure', async () => {
    const memo = new GetMemo()
    memo.setRemembering(true)
    await expect(memo.run('/sites/', () => Promise.reject(new Error('down')))).rejects.toThrow()
    const fetch = ok()
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(1)
  })
})

describe('memoKey', () => {
  it('ignores key order and undefined values, keeps repeated values in order', () => {
    expect(
      memoKey('/jobs/', { state: ['RUNNING', 'FAILED'], limit: 100, site_id: undefined }),
    ).toBe(memoKey('/jobs/', { limit: 100, state: ['RUNNING', 'FAILED'] }))
    expect(memoKey('/jobs/', { id: [1, 2] })).toBe('/jobs/?id=1&id=2')
    expect(memoKey('/jobs/', { id: [1, 2] })).not.toBe(memoKey('/jobs/', { id: [2, 1] }))
    expect(memoKey('/sites/')).toBe('/sites/')
  })
})
