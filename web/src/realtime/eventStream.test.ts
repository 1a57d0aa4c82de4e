// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
// The sequenced protocol: hello and welcome, events in order exactly once, resume, resync and
// close codes. Liveness (heartbeats, back-off, pause) and the app's wiring have their own files.
import { describe, expect, it, vi } from 'vitest'

import { FakeWebSocket } from '@/test-support/fakeWebSocket'
import {
  event,
  frames,
  seqs,
  setUpStreamTests,
  site,
  startStream,
  welcome,
} from '@/test-support/eventStreamHarness'

import { backoffDelay, BACKOFF_MAX_MS, CLOSE, frameScheduler, subscribeUrl } from './eventStream'

setUpStreamTests()

describe('backoffDelay', () => {
  it('doubles from 1 s and stops growing at 8 s', () => {
    const middle = () => 0.5
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, middle))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000,
    ])
  })

  it('never waits more than 10 s, however long the outage', () => {
    for (const attempt of [5, 20, 1_000]) expect(backoffDelay(attempt, () => 1)).toBe(10_000)
  })

  it('jitters by ±25 %', () => {
    expect(backoffDelay(0, () => 0)).toBe(750)
    expect(backoffDelay(0, () => 1)).toBe(1_250)
    expect(backoffDelay(20, () => 0)).toBe(BACKOFF_MAX_MS * 0.75)
    expect(backoffDelay(20, () => 1)).toBe(BACKOFF_MAX_MS * 1.25)
  })
})

describe('EventStream: hello and welcome', () => {
  it('says hello with the token and no resume point, and is live only once welcomed', () => {
    const { statuses, options } = startStream()
    const socket = FakeWebSocket.latest()
    expect(socket.url).toBe('ws://host/api/v1/subscribe-user')

    socket.serverOpens()
    expect(socket.hello()).toEqual({ op: 'hello', token: 'T0KEN', last_seq: null })
    expect(socket.sent).toHaveLength(1)
    expect(statuses).toEqual(['connecting'])

    socket.serverSendsText({ op: 'welcome', seq: 41, resumed: false })
    expect(statuses).toEqual(['connecting', 'live'])
    expect(socket.binaryType).toBe('arraybuffer')
    // A fresh start: whatever was fetched before may predate seq 41.
    expect(options.onReload).toHaveBeenCalledExactlyOnceWith('fresh')
  })

  it('continues from the welcome’s seq on a fresh start', () => {
    const { stream, applied } = startStream()
    const socket = welcome(41)
    expect(stream.lastSeq).toBe(41)

    socket.serverSendsText(event(41)) // not newer than the head we were welcomed at
    socket.serverSendsText(event(42))
    frames.run()

    expect(seqs(applied)).toEqual([42])
  })

  it('ignores events that come before the welcome', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { applied } = startStream()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText(event(1))
    frames.run()

    expect(applied).toEqual([])
    expect(warn).toHaveBeenCalledOnce()
  })
})

describe('EventStream: events', () => {
  it('applies events in order, once per frame, as one batch', () => {
    const { options, applied, stream } = startStream()
    const socket = welcome(0)
    socket.serverSendsText(event(1))
    socket.serverSendsBinary(event(2, { ids: [1] }, 'bulk-delete'))
    socket.serverSendsText({ seq: 3, action: 'create', type: 'site', data: site })

    expect(options.onChanges).not.toHaveBeenCalled()
    expect(frames.waiting).toBe(1)
    frames.run()

    expect(options.onChanges).toHaveBeenCalledOnce()
    expect(seqs(applied)).toEqual([1, 2, 3])
    expect(applied[1]).toEqual({ seq: 2, action: 'bulk-delete', type: 'job', data: { ids: [1] } })
    expect(stream.lastSeq).toBe(3)
  })

  it('ignores duplicate and old seqs', () => {
    const { applied, stream } = startStream()
    const socket = welcome(10)
    socket.serverSendsText(event(11))
    socket.serverSendsText(event(11))
    socket.serverSendsText(event(9))
    frames.run()
    socket.serverSendsText(event(11))
    socket.serverSendsText(event(12))
    frames.run()

    expect(seqs(applied)).toEqual([11, 12])
    expect(stream.lastSeq).toBe(12)
  })

  it('warns about and skips frames outside the protocol', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { applied } = startStream()
    const socket = welcome(0)
    socket.serverSendsText('not json')
    socket.serverSendsText({ action: 'create', type: 'site', data: site }) // upstream, no seq
    socket.serverSendsText({ op: 'surprise', seq: 1 })
    frames.run()

    expect(applied).toEqual([])
    expect(warn).toHaveBeenCalledTimes(3)
  })

  it('reconnects to resume when a seq goes missing, from the last applied one', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { applied } = startStream()
    const first = welcome(0)
    first.serverSendsText(event(1))
    first.serverSendsText(event(3))
    frames.run()

    expect(seqs(applied)).toEqual([1])
    expect(first.closedWith).toBe(CLOSE.CLIENT_RESTART)
    expect(warn).toHaveBeenCalledOnce()
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.latest().serverOpens()
    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: 1 })
  })
})

describe('EventStream: resume', () => {
  it("sends back the welcome's epoch with its last_seq, so another database's seq gets resync", () => {
    const { stream } = startStream()
    const first = FakeWebSocket.latest()
    first.serverOpens()
    expect(first.hello()).toEqual({ op: 'hello', token: 'T0KEN', last_seq: null })
    first.serverSendsText({ op: 'welcome', seq: 4, resumed: false, epoch: 'db-1' })
    first.serverCloses(CLOSE.GOING_AWAY)
    expect(stream.state.phase).toBe('reconnecting')
    vi.advanceTimersByTime(1_000)
    const second = FakeWebSocket.latest()
    second.serverOpens()
    expect(second.hello()).toEqual({ op: 'hello', token: 'T0KEN', last_seq: 4, epoch: 'db-1' })
  })

  it('resumes from the last applied seq after a drop, without a reload', () => {
    const { options, applied, stream, statuses } = startStream()
    const first = welcome(5)
    first.serverSendsText(event(6))
    frames.run()
    first.serverCloses(CLOSE.GOING_AWAY)
    expect(stream.state.phase).toBe('reconnecting')

    vi.advanceTimersByTime(1_000)
    const second = FakeWebSocket.latest()
    expect(second).not.toBe(first)
    second.serverOpens()
    expect(second.hello()).toEqual({ op: 'hello', token: 'T0KEN', last_seq: 6 })

    second.serverSendsText({ op: 'welcome', seq: 8, resumed: true })
    second.serverSendsText(event(7))
    second.serverSendsText(event(8))
    frames.run()

    expect(seqs(applied)).toEqual([6, 7, 8])
    expect(options.onReload).toHaveBeenCalledOnce() // the first, fresh start only
    expect(statuses.at(-1)).toBe('live')
  })

  it('applies what was queued when the socket closed, and resumes after it', () => {
    const { applied } = startStream()
    const first = welcome(0)
    first.serverSendsText(event(1))
    first.serverSendsText(event(2))
    first.serverCloses(1006)

    expect(seqs(applied)).toEqual([1, 2])
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.latest().serverOpens()
    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: 2 })
  })

  it.each([
    ['server going away', CLOSE.GOING_AWAY],
    ['auth timeout', CLOSE.AUTH_TIMEOUT],
    ['slow consumer', CLOSE.SLOW_CONSUMER],
    ['network', 1006],
  ])('reconnects and resumes after close (%s)', (_, code) => {
    const { stream } = startStream()
    welcome(3)
    FakeWebSocket.latest().serverCloses(code)
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.latest().serverOpens()

    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: 3 })
    expect(stream.state.phase).toBe('reconnecting')
  })

  it('forgets the resume point when stopped', () => {
    const { stream } = startStream()
    welcome(3)
    stream.stop()
    stream.start()
    FakeWebSocket.latest().serverOpens()

    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: null })
  })
})

describe('EventStream: resync', () => {
  it('asks for a reload and continues from the resync’s seq', () => {
    vi.setSystemTime(50_000)
    const { options, applied, stream } = startStream()
    const socket = welcome(5)
    socket.serverSendsText(event(6))
    socket.serverSendsText({ op: 'resync', seq: 90 })

    // Events before the resync were applied before it took effect.
    expect(seqs(applied)).toEqual([6])
    expect(options.onReload).toHaveBeenLastCalledWith('resync')
    expect(stream.state).toMatchObject({ phase: 'live', resyncedAt: 50_000 })

    socket.serverSendsText(event(90))
    socket.serverSendsText(event(91))
    frames.run()
    expect(seqs(applied)).toEqual([6, 91])
    expect(stream.lastSeq).toBe(91)
  })

  it('reloads once when a resume is refused (welcome not resumed, then resync)', () => {
    const { options } = startStream()
    welcome(5)
    FakeWebSocket.latest().serverCloses(1006)
    vi.advanceTimersByTime(1_000)
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText({ op: 'welcome', seq: 2, resumed: false })
    socket.serverSendsText({ op: 'resync', seq: 2 })

    expect(vi.mocked(options.onReload).mock.calls).toEqual([['fresh'], ['resync']])
  })

  it('still reloads on a later resync at the head it was welcomed at', () => {
    const { options } = startStream()
    const socket = welcome(5)
    socket.serverSendsText({ op: 'heartbeat', seq: 5 })
    socket.serverSendsText({ op: 'resync', seq: 5 })

    expect(vi.mocked(options.onReload).mock.calls).toEqual([['fresh'], ['resync']])
  })
})

describe('EventStream: close codes', () => {
  it.each([
    [CLOSE.INVALID_TOKEN, 'invalid'],
    [CLOSE.TOKEN_EXPIRED, 'expired'],
    [CLOSE.POLICY_VIOLATION, 'invalid'],
  ])('treats close %i as terminal: no retry, login refused (%s)', (code, reason) => {
    const { stream, options } = startStream()
    welcome(0)
    FakeWebSocket.latest().serverCloses(code)
    vi.advanceTimersByTime(120_000)

    expect(options.onRejected).toHaveBeenCalledExactlyOnceWith(reason)
    expect(stream.state.phase).toBe('rejected')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('logs 4004 (our hello was refused) as a bug, and keeps trying with back-off', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const { stream, options } = startStream()
    FakeWebSocket.latest().serverOpens()
    FakeWebSocket.latest().serverCloses(CLOSE.BAD_HELLO)

    expect(error).toHaveBeenCalledOnce()
    expect(options.onRejected).not.toHaveBeenCalled()
    expect(stream.state.phase).toBe('reconnecting')
  })
})

describe('frameScheduler', () => {
  it('flushes once, on the first of animation frame or timer', () => {
    const flush = vi.fn()
    frameScheduler(flush)
    vi.advanceTimersByTime(100)
    vi.advanceTimersByTime(1_000)

    expect(flush).toHaveBeenCalledOnce()
  })

  it('can be cancelled', () => {
    const flush = vi.fn()
    frameScheduler(flush)()
    vi.advanceTimersByTime(1_000)

    expect(flush).not.toHaveBeenCalled()
  })
})

describe('subscribeUrl', () => {
  it('follows the page’s scheme', () => {
    expect(subscribeUrl({ protocol: 'http:', host: 'h:8000' })).toBe(
      'ws://h:8000/api/v1/subscribe-user',
    )
    expect(subscribeUrl({ protocol: 'https:', host: 'h' })).toBe('wss://h/api/v1/subscribe-user')
  })
})
