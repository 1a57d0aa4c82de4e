import { describe, expect, it } from 'vitest'

import { ApiError, errorMessage, responseSeq, unwrap, unwrapList } from './client'

describe('errorMessage', () => {
  it('reads upstream’s error bodies', () => {
    expect(errorMessage(400, { detail: 'Username already taken' })).toBe('Username already taken')
    expect(errorMessage(404, { error: 'Not found' })).toBe('Not found')
    expect(
      errorMessage(422, {
        detail: [
          { loc: ['body', 'password'], msg: 'field required', type: 'value_error.missing' },
          { loc: ['query', 'limit'], msg: 'too big', type: 'x' },
        ],
      }),
    ).toBe('password: field required; query.limit: too big')
  })

  it('falls back to the status for bodies it does not know', () => {
    expect(errorMessage(500, null)).toBe('The server answered 500')
    expect(errorMessage(502, { detail: [] })).toBe('The server answered 502')
    expect(errorMessage(500, 'Internal Server Error')).toBe('Internal Server Error')
  })
})

describe('unwrap', () => {
  it('returns data of a success and throws an ApiError otherwise', () => {
    expect(unwrap({ data: 3, response: new Response(null, { status: 200 }) })).toBe(3)

    const failure = () =>
      unwrap({ error: { detail: 'nope' }, response: new Response(null, { status: 400 }) })
    expect(failure).toThrow(ApiError)
    expect(failure).toThrow('nope')
  })
})

describe('unwrapList', () => {
  const answer = (headers: Record<string, string>) => ({
    data: { count: 0, results: [] },
    response: new Response(null, { status: 200, headers }),
  })

  it('adds the snapshot seq from X-Balsam-Seq', () => {
    expect(unwrapList(answer({ 'X-Balsam-Seq': '57' }))).toEqual({ count: 0, results: [], seq: 57 })
    expect(unwrapList(answer({ 'x-balsam-seq': '0' })).seq).toBe(0)
  })

  it('leaves seq out when the header is missing or not a sequence number', () => {
    expect(unwrapList(answer({}))).not.toHaveProperty('seq')
    for (const bad of ['', 'abc', '-1', '1.5']) {
      expect(responseSeq(new Response(null, { headers: { 'X-Balsam-Seq': bad } }))).toBeUndefined()
    }
  })
})
