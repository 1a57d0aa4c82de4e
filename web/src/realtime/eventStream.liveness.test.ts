// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
// The stream's liveness: silence and heartbeats, the browser going offline, pausing, and
// reconnecting with back-off.
import { describe, expect, it, vi } from 'vitest'

import { FakeWebSocket } from '@/test-support/fakeWebSocket'
import {
  event,
  frames,
  seqs,
  setUpStreamTests,
  startStream,
  welcome,
} from '@/test-support/eventStreamHarness'

import { CLOSE, SILENCE_TIMEOUT_MS, STABLE_AFTER_MS } from './eventStream'

setUpStreamTests()

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
