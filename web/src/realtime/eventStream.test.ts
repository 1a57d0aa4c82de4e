import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { EXPIRED_MESSAGE, useAuthStore } from '@/stores/auth'
import { useConnectionStore } from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { useSitesStore } from '@/stores/sites'
import { FakeWebSocket } from '@/test-support/fakeWebSocket'

import { onAppliedChanges } from './appliedChanges'
import type { ResourceChange } from './change'
import {
  backoffDelay,
  BACKOFF_MAX_MS,
  CLOSE,
  createAppEventStream,
  EventStream,
  frameScheduler,
  SILENCE_TIMEOUT_MS,
  STABLE_AFTER_MS,
  subscribeUrl,
  type EventStreamOptions,
  type FlushScheduler,
} from './eventStream'

const site = {
  id: 8,
  name: 's',
  path: '/s',
  last_refresh: '2026-11-29T17:08:49.794910',
  creation_date: '2026-11-29T17:08:49.794908',
}

function jobRow(id: number, state = 'READY') {
  return { id, app_id: 1, state, workdir: `w/${id}` }
}

function logIn() {
  localStorage.setItem(
    'balsam.auth',
    JSON.stringify({ token: 'T0KEN', expiresAt: Date.now() + 3_600_000, username: 'u' }),
  )
  useAuthStore().restore()
}

/** A scheduler the test drives: `frames.run()` is "the next animation frame". */
function manualFrames() {
  let pending: (() => void)[] = []
  const schedule: FlushScheduler = (flush) => {
    pending.push(flush)
    return () => (pending = pending.filter((f) => f !== flush))
  }
  return {
    schedule,
    get waiting() {
      return pending.length
    },
    run() {
      const due = pending
      pending = []
      due.forEach((flush) => flush())
    },
  }
}

let frames: ReturnType<typeof manualFrames>

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  setActivePinia(createPinia())
  getMemo.setRemembering(false)
  getMemo.clear()
  frames = manualFrames()
})

afterEach(() => {
  vi.useRealTimers()
})

function startStream(overrides: Partial<EventStreamOptions> = {}) {
  const statuses: string[] = []
  const applied: ResourceChange[] = []
  const options: EventStreamOptions = {
    url: 'ws://host/api/v1/subscribe-user',
    token: () => 'T0KEN',
    onChanges: vi.fn((changes: ResourceChange[]) => applied.push(...changes)),
    onStatus: (status) => statuses.push(status.phase),
    onReload: vi.fn(),
    onRejected: vi.fn(),
    createSocket: (url) => new FakeWebSocket(url),
    random: () => 0.5,
    schedule: frames.schedule,
    ...overrides,
  }
  const stream = new EventStream(options)
  stream.start()
  return { stream, options, statuses, applied }
}

/** Opens the latest socket and welcomes it. */
function welcome(seq: number, resumed = false) {
  const socket = FakeWebSocket.latest()
  socket.serverOpens()
  socket.serverSendsText({ op: 'welcome', seq, resumed })
  return socket
}

function event(seq: number, data: unknown = [jobRow(seq)], action = 'bulk-update') {
  return { seq, action, type: 'job', data }
}

const seqs = (changes: ResourceChange[]) => changes.map((c) => c.seq)

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

describe('EventStream: liveness', () => {
  it('treats a socket silent for 2.5 heartbeats as dead and resumes on a new one', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { stream } = startStream()
    const first = welcome(7)

    vi.advanceTimersByTime(SILENCE_TIMEOUT_MS - 1)
    expect(stream.state.phase).toBe('live')
    vi.advanceTimersByTime(1)

    expect(first.closedWith).toBe(CLOSE.CLIENT_RESTART)
    expect(stream.state.phase).toBe('reconnecting')
    expect(warn).toHaveBeenCalledOnce()
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.latest().serverOpens()
    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: 7 })
  })

  it('shows an overdue heartbeat at once as a stall, and clears it on the next frame', () => {
    const { stream } = startStream()
    const socket = welcome(7)

    vi.advanceTimersByTime(SILENCE_TIMEOUT_MS / 2 - 1)
    expect(stream.state.stalledSince).toBeNull()
    vi.advanceTimersByTime(1)
    expect(stream.state.phase).toBe('live')
    expect(stream.state.stalledSince).not.toBeNull()

    socket.serverSendsText({ op: 'heartbeat', seq: 7 })
    expect(stream.state.stalledSince).toBeNull()
  })

  it('drops the socket at once when the browser goes offline, and retries when online', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { stream } = startStream()
    const socket = welcome(7)

    stream.setBrowserOnline(false)
    expect(socket.closedWith).toBe(CLOSE.CLIENT_RESTART)
    expect(stream.state.phase).toBe('reconnecting')
    expect(stream.state.browserOffline).toBe(true)

    stream.setBrowserOnline(true)
    expect(stream.state.browserOffline).toBe(false)
    expect(FakeWebSocket.instances).toHaveLength(2) // no back-off wait
    FakeWebSocket.latest().serverOpens()
    expect(FakeWebSocket.latest().hello()).toMatchObject({ last_seq: 7 })
  })

  it('holds events while paused, across heartbeats, and applies them all on resume', () => {
    const { stream, applied } = startStream()
    const socket = welcome(0)
    stream.setPaused(true)
    socket.serverSendsText(event(1))
    socket.serverSendsText(event(2))
    frames.run()
    socket.serverSendsText({ op: 'heartbeat', seq: 2 })
    expect(applied).toEqual([])
    expect(stream.state.paused).toBe(true)
    expect(stream.state.queued).toBe(2)

    stream.setPaused(false)
    expect(seqs(applied)).toEqual([1, 2])
    expect(stream.state.queued).toBe(0)
    expect(stream.lastSeq).toBe(2)
  })

  it('follows a heartbeat interval the welcome announces', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { stream } = startStream()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText({ op: 'welcome', seq: 1, resumed: false, heartbeat_secs: 60 })
    vi.advanceTimersByTime(149_000)
    expect(stream.state.phase).toBe('live')
    vi.advanceTimersByTime(1_000)
    expect(stream.state.phase).toBe('reconnecting')
  })

  it('stays live while heartbeats arrive', () => {
    const { stream } = startStream()
    const socket = welcome(7)
    for (let i = 0; i < 5; i += 1) {
      vi.advanceTimersByTime(20_000)
      socket.serverSendsText({ op: 'heartbeat', seq: 7 })
    }

    expect(stream.state.phase).toBe('live')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('resumes when a heartbeat shows an event it never received', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    startStream()
    const socket = welcome(7)
    socket.serverSendsText({ op: 'heartbeat', seq: 9 })

    expect(socket.closedWith).toBe(CLOSE.CLIENT_RESTART)
  })

  it('reconnects with growing delays and says since when it is down', () => {
    vi.setSystemTime(100_000)
    const { stream, statuses } = startStream()
    welcome(0)
    vi.setSystemTime(105_000)
    FakeWebSocket.latest().serverCloses(1006)

    expect(statuses.at(-1)).toBe('reconnecting')
    expect(stream.state).toMatchObject({ since: 105_000, attempt: 1, retryAt: 106_000 })

    vi.advanceTimersByTime(999)
    expect(FakeWebSocket.instances).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeWebSocket.instances).toHaveLength(2)

    FakeWebSocket.latest().serverCloses(1006)
    expect(stream.state).toMatchObject({ since: 105_000, attempt: 2 })
    vi.advanceTimersByTime(1_999)
    expect(FakeWebSocket.instances).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(FakeWebSocket.instances).toHaveLength(3)
  })

  it('resets the back-off after a connection that stayed live', () => {
    const { stream } = startStream()
    for (let i = 0; i < 4; i += 1) {
      FakeWebSocket.latest().serverCloses(1006)
      vi.runOnlyPendingTimers()
    }
    expect(stream.state.attempt).toBe(4)

    welcome(0)
    vi.advanceTimersByTime(STABLE_AFTER_MS)
    FakeWebSocket.latest().serverCloses(1006)

    expect(stream.state).toMatchObject({ phase: 'reconnecting', attempt: 1 })
  })

  it('retries at once on request while reconnecting', () => {
    const { stream } = startStream()
    FakeWebSocket.latest().serverCloses(1006)
    stream.retryNow()

    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('closes the socket and stops retrying when stopped', () => {
    const { stream } = startStream()
    const socket = welcome(0)
    stream.stop()
    vi.advanceTimersByTime(120_000)

    expect(socket.closedWith).toBe(1000)
    expect(stream.state.phase).toBe('idle')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('does not connect without a token', () => {
    const { stream } = startStream({ token: () => null })

    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(stream.state.phase).toBe('idle')
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

describe('createAppEventStream', () => {
  function appStream() {
    logIn()
    const stream = createAppEventStream({
      url: 'ws://x',
      createSocket: (url) => new FakeWebSocket(url),
      schedule: frames.schedule,
    })
    stream.start()
    return stream
  }

  it('routes each change to the store that owns its type', () => {
    appStream()
    const socket = welcome(0)
    socket.serverSendsBinary({ seq: 1, action: 'create', type: 'site', data: site })
    socket.serverSendsText(event(2, [jobRow(1), jobRow(2)], 'bulk-create'))
    socket.serverSendsText(event(3, { ids: [1] }, 'bulk-delete'))
    frames.run()

    expect(useSitesStore().byId[8]?.name).toBe('s')
    expect(Object.keys(useJobsStore().byId)).toEqual(['2'])
  })

  it('tells listeners about each applied batch', () => {
    appStream()
    const listener = vi.fn()
    const off = onAppliedChanges(listener)
    const socket = welcome(0)
    socket.serverSendsText(event(1))
    socket.serverSendsText(event(2))
    frames.run()
    off()

    expect(listener).toHaveBeenCalledOnce()
    expect(seqs(listener.mock.calls[0]?.[0] as ResourceChange[])).toEqual([1, 2])
  })

  it('drops frames that arrive after the login ended', () => {
    appStream()
    const socket = welcome(0)
    useAuthStore().logOut()
    socket.serverSendsText({ seq: 1, action: 'create', type: 'site', data: site })
    frames.run()

    expect(useSitesStore().size).toBe(0)
  })

  it('mirrors its state into the connection store; the memo remembers once resumable', () => {
    appStream()
    const connection = useConnectionStore()
    expect(connection.status.phase).toBe('connecting')
    expect(getMemo.isRemembering).toBe(false)

    welcome(0)
    expect(connection.status.phase).toBe('live')
    expect(getMemo.isRemembering).toBe(true)

    FakeWebSocket.latest().serverCloses(1006)
    expect(connection.status.phase).toBe('reconnecting')
    // Still resumable: GETs made while down stay valid once the stream resumes.
    expect(getMemo.isRemembering).toBe(true)
  })

  it('reloads nothing on the first welcome when no GET went out before it', () => {
    appStream()
    const reloads = useConnectionStore().reloads
    welcome(5)

    expect(useConnectionStore().reloads).toBe(reloads)
  })

  it('reloads on a fresh welcome when GETs went out before it (they may predate it)', async () => {
    appStream()
    await getMemo.run('/sites/', () => Promise.resolve())
    const reloads = useConnectionStore().reloads
    welcome(5)

    expect(useConnectionStore().reloads).toBe(reloads + 1)
    expect(useConnectionStore().lastReloadReason).toBe('fresh')
  })

  it('keeps the GET memo across a resumed reconnect', async () => {
    appStream()
    welcome(4)
    await getMemo.run('/sites/', () => Promise.resolve())
    const reloads = useConnectionStore().reloads
    FakeWebSocket.latest().serverCloses(CLOSE.SLOW_CONSUMER)
    vi.advanceTimersByTime(1_000)
    welcome(9, true)

    expect(getMemo.has('/sites/')).toBe(true)
    expect(useConnectionStore().reloads).toBe(reloads)
  })

  it('clears the GET memo and asks views to reload on resync', async () => {
    appStream()
    welcome(4)
    await getMemo.run('/sites/', () => Promise.resolve())
    const connection = useConnectionStore()
    const reloads = connection.reloads
    FakeWebSocket.latest().serverSendsText({ op: 'resync', seq: 70 })

    expect(getMemo.has('/sites/')).toBe(false)
    expect(connection.reloads).toBe(reloads + 1)
    expect(connection.lastReloadReason).toBe('resync')
    expect(connection.status.resyncedAt).not.toBeNull()
  })

  it('sends the user back to log in when the token has expired (4002)', () => {
    appStream()
    const auth = useAuthStore()
    welcome(0)
    FakeWebSocket.latest().serverCloses(CLOSE.TOKEN_EXPIRED)

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toBe(EXPIRED_MESSAGE)
    expect(localStorage.getItem('balsam.auth')).toBeNull()
  })

  it('sends the user back to log in when the token is refused (4001)', () => {
    appStream()
    const auth = useAuthStore()
    FakeWebSocket.latest().serverOpens()
    FakeWebSocket.latest().serverCloses(CLOSE.INVALID_TOKEN)

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toMatch(/log in again/)
  })

  it('uses the connection store’s retry button', () => {
    appStream()
    FakeWebSocket.latest().serverCloses(1006)
    useConnectionStore().requestRetry()

    expect(FakeWebSocket.instances).toHaveLength(2)
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
