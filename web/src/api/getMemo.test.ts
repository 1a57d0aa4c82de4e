import { describe, expect, it, vi } from 'vitest'

import { GetMemo, memoKey } from './getMemo'

const ok = () => vi.fn(() => Promise.resolve())

describe('GetMemo', () => {
  it('does not repeat a GET while the stream stays live', async () => {
    const memo = new GetMemo()
    memo.setLive(true)
    const fetch = ok()
    await memo.run('/sites/', fetch)
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('repeats GETs while the stream is not live (nothing keeps the data current)', async () => {
    const memo = new GetMemo()
    const fetch = ok()
    await memo.run('/sites/', fetch)
    await memo.run('/sites/', fetch)

    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('shares one request between concurrent callers even when not live', async () => {
    const memo = new GetMemo()
    const fetch = ok()
    await Promise.all([memo.run('/sites/', fetch), memo.run('/sites/', fetch)])

    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('forgets everything when the stream drops and when it comes back', async () => {
    const memo = new GetMemo()
    memo.setLive(true)
    const fetch = ok()
    await memo.run('/sites/', fetch)
    memo.setLive(false)
    expect(memo.has('/sites/')).toBe(false)

    memo.setLive(true)
    await memo.run('/sites/', fetch)
    expect(fetch).toHaveBeenCalledTimes(2)
  })

  it('does not keep a GET that started before the stream went live', async () => {
    const memo = new GetMemo()
    let finish = () => undefined as void
    const pending = memo.run('/apps/', () => new Promise<void>((resolve) => (finish = resolve)))
    memo.setLive(true)
    finish()
    await pending

    expect(memo.has('/apps/')).toBe(false)
  })

  it('never remembers a failure', async () => {
    const memo = new GetMemo()
    memo.setLive(true)
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
