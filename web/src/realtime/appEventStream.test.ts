// `createAppEventStream`: the stream wired to the stores, the connection store, the GET memo
// and the login.
import { describe, expect, it, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import { EXPIRED_MESSAGE, useAuthStore } from '@/stores/auth'
import { useConnectionStore } from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { useSitesStore } from '@/stores/sites'
import { FakeWebSocket } from '@/test-support/fakeWebSocket'
import {
  event,
  frames,
  jobRow,
  logIn,
  seqs,
  setUpStreamTests,
  site,
  welcome,
} from '@/test-support/eventStreamHarness'

import { onAppliedChanges } from './appliedChanges'
import type { ResourceChange } from './change'
import { CLOSE, createAppEventStream } from './eventStream'

setUpStreamTests()

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
