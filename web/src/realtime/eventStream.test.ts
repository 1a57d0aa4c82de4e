import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { useAuthStore } from '@/stores/auth'
import { useConnectionStore } from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { useSitesStore } from '@/stores/sites'
import { FakeWebSocket } from '@/test-support/fakeWebSocket'

import {
  backoffDelay,
  BACKOFF_MAX_MS,
  createAppEventStream,
  EventStream,
  STABLE_AFTER_MS,
  subscribeUrl,
  type EventStreamOptions,
} from './eventStream'

const site = {
  id: 8,
  name: 's',
  path: '/s',
  last_refresh: '2026-11-29T17:08:49.794910',
  creation_date: '2026-11-29T17:08:49.794908',
}

function logIn() {
  localStorage.setItem(
    'balsam.auth',
    JSON.stringify({ token: 'T0KEN', expiresAt: Date.now() + 3_600_000, username: 'u' }),
  )
  useAuthStore().restore()
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  setActivePinia(createPinia())
  getMemo.setLive(false)
})

afterEach(() => {
  vi.useRealTimers()
})

function startStream(overrides: Partial<EventStreamOptions> = {}) {
  const statuses: string[] = []
  const options: EventStreamOptions = {
    url: 'ws://host/api/v1/subscribe-user',
    token: () => 'T0KEN',
    onChange: vi.fn(),
    onStatus: (status) => statuses.push(status.phase),
    onRejected: vi.fn(),
    createSocket: (url) => new FakeWebSocket(url),
    random: () => 0.5,
    ...overrides,
  }
  const stream = new EventStream(options)
  stream.start()
  return { stream, options, statuses }
}

describe('backoffDelay', () => {
  it('doubles from 1 s and stops growing at 30 s', () => {
    const middle = () => 0.5
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, middle))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ])
  })

  it('jitters by ±25 %', () => {
    expect(backoffDelay(0, () => 0)).toBe(750)
    expect(backoffDelay(0, () => 1)).toBe(1_250)
    expect(backoffDelay(20, () => 0)).toBe(BACKOFF_MAX_MS * 0.75)
    expect(backoffDelay(20, () => 1)).toBe(BACKOFF_MAX_MS * 1.25)
  })
})

describe('EventStream', () => {
  it('sends the raw token as the first text frame once open, then reports live', () => {
    const { statuses } = startStream()
    const socket = FakeWebSocket.latest()
    expect(socket.url).toBe('ws://host/api/v1/subscribe-user')
    expect(statuses).toEqual(['connecting'])

    socket.serverOpens()

    expect(socket.sent).toEqual(['T0KEN'])
    expect(statuses).toEqual(['connecting', 'live'])
    expect(socket.binaryType).toBe('arraybuffer')
  })

  it('passes text and binary frames on as changes and skips malformed ones', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { options } = startStream()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()

    socket.serverSendsText({ action: 'create', type: 'site', data: site })
    socket.serverSendsBinary({ action: 'bulk-delete', type: 'job', data: { ids: [1] } })
    socket.serverSendsText('not json')

    expect(options.onChange).toHaveBeenCalledTimes(2)
    expect(options.onChange).toHaveBeenNthCalledWith(2, {
      action: 'bulk-delete',
      type: 'job',
      data: { ids: [1] },
    })
    expect(warn).toHaveBeenCalledOnce()
  })

  it('reconnects with growing delays and says since when it is down', () => {
    vi.setSystemTime(100_000)
    const { stream, statuses } = startStream()
    FakeWebSocket.latest().serverOpens()
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

  it('resets the back-off after a connection that stayed up', () => {
    const { stream } = startStream()
    for (let i = 0; i < 4; i += 1) {
      FakeWebSocket.latest().serverCloses(1006)
      vi.runOnlyPendingTimers()
    }
    expect(stream.state.attempt).toBe(4)

    FakeWebSocket.latest().serverOpens()
    vi.advanceTimersByTime(STABLE_AFTER_MS)
    FakeWebSocket.latest().serverCloses(1006)

    expect(stream.state).toMatchObject({ phase: 'reconnecting', attempt: 1 })
  })

  it('treats close 1008 as terminal: no retry, rejected reported', () => {
    const { stream, options } = startStream()
    FakeWebSocket.latest().serverOpens()
    FakeWebSocket.latest().serverCloses(1008)
    vi.advanceTimersByTime(60_000)

    expect(options.onRejected).toHaveBeenCalledOnce()
    expect(stream.state.phase).toBe('rejected')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('retries at once on request while reconnecting', () => {
    const { stream } = startStream()
    FakeWebSocket.latest().serverCloses(1006)
    stream.retryNow()

    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('closes the socket and stops retrying when stopped', () => {
    const { stream } = startStream()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    stream.stop()
    vi.advanceTimersByTime(60_000)

    expect(socket.closedWith).toBe(1000)
    expect(stream.state.phase).toBe('idle')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('does not connect without a token', () => {
    const { stream } = startStream({ token: () => null })

    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(stream.state.phase).toBe('idle')
  })

  it('tracks the highest sequence number seen, the future resume point', () => {
    const { stream } = startStream()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    socket.serverSendsText({ action: 'update', type: 'job', data: [], seq: 7 })
    socket.serverSendsText({ action: 'update', type: 'job', data: [], seq: 5 })

    expect(stream.lastSeq).toBe(7)
  })
})

describe('createAppEventStream', () => {
  it('routes each change to the store that owns its type', () => {
    logIn()
    createAppEventStream({ url: 'ws://x', createSocket: (url) => new FakeWebSocket(url) }).start()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()

    socket.serverSendsBinary({ action: 'create', type: 'site', data: site })
    socket.serverSendsText({
      action: 'bulk-create',
      type: 'job',
      data: [
        { id: 1, app_id: 1, state: 'READY', workdir: 'a' },
        { id: 2, app_id: 1, state: 'READY', workdir: 'b' },
      ],
    })
    socket.serverSendsText({ action: 'bulk-delete', type: 'job', data: { ids: [1] } })

    expect(useSitesStore().byId[8]?.name).toBe('s')
    expect(Object.keys(useJobsStore().byId)).toEqual(['2'])
  })

  it('drops frames that arrive after the login ended', () => {
    logIn()
    createAppEventStream({ url: 'ws://x', createSocket: (url) => new FakeWebSocket(url) }).start()
    const socket = FakeWebSocket.latest()
    socket.serverOpens()
    useAuthStore().logOut()
    socket.serverSendsText({ action: 'create', type: 'site', data: site })

    expect(useSitesStore().size).toBe(0)
  })

  it('mirrors its state into the connection store and the GET memo', () => {
    logIn()
    createAppEventStream({ url: 'ws://x', createSocket: (url) => new FakeWebSocket(url) }).start()
    const connection = useConnectionStore()
    expect(connection.status.phase).toBe('connecting')

    FakeWebSocket.latest().serverOpens()
    expect(connection.status.phase).toBe('live')
    expect(getMemo.isLive).toBe(true)

    FakeWebSocket.latest().serverCloses(1006)
    expect(connection.status.phase).toBe('reconnecting')
    expect(getMemo.isLive).toBe(false)
  })

  it('sends the user back to log in when the server rejects the token', () => {
    logIn()
    const auth = useAuthStore()
    createAppEventStream({ url: 'ws://x', createSocket: (url) => new FakeWebSocket(url) }).start()
    FakeWebSocket.latest().serverOpens()
    FakeWebSocket.latest().serverCloses(1008)

    expect(auth.isAuthenticated).toBe(false)
    expect(auth.notice).toMatch(/log in again/)
    expect(localStorage.getItem('balsam.auth')).toBeNull()
  })

  it('uses the connection store’s retry button', () => {
    logIn()
    createAppEventStream({ url: 'ws://x', createSocket: (url) => new FakeWebSocket(url) }).start()
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
