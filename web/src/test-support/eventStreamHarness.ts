// The event stream's test harness: a fake socket per connection, a scheduler the test drives
// (`frames.run()` is "the next animation frame"), a logged-in user and frame builders.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, vi } from 'vitest'

import { getMemo } from '@/api/getMemo'
import type { ResourceChange } from '@/realtime/change'
import { EventStream, type EventStreamOptions, type FlushScheduler } from '@/realtime/eventStream'
import { useAuthStore } from '@/stores/auth'

import { FakeWebSocket } from './fakeWebSocket'

export const site = {
  id: 8,
  name: 's',
  path: '/s',
  last_refresh: '2026-11-29T17:08:49.794910',
  creation_date: '2026-11-29T17:08:49.794908',
}

export function jobRow(id: number, state = 'READY') {
  return { id, app_id: 1, state, workdir: `w/${id}` }
}

export function logIn() {
  localStorage.setItem(
    'balsam.auth',
    JSON.stringify({ token: 'T0KEN', expiresAt: Date.now() + 3_600_000, username: 'u' }),
  )
  useAuthStore().restore()
}

/** A scheduler the test drives: `frames.run()` is "the next animation frame". */
export function manualFrames() {
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

/** The current test's scheduler (a fresh one per test). */
export let frames = manualFrames()

/** Fake timers, fresh sockets, Pinia, GET memo and frames for every test of the file. */
export function setUpStreamTests(): void {
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
}

export function startStream(overrides: Partial<EventStreamOptions> = {}) {
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
export function welcome(seq: number, resumed = false) {
  const socket = FakeWebSocket.latest()
  socket.serverOpens()
  socket.serverSendsText({ op: 'welcome', seq, resumed })
  return socket
}

export function event(seq: number, data: unknown = [jobRow(seq)], action = 'bulk-update') {
  return { seq, action, type: 'job', data }
}

export const seqs = (changes: ResourceChange[]) => changes.map((c) => c.seq)
