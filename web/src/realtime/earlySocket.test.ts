import { readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'

import { afterEach, describe, expect, it, vi } from 'vitest'

import { AUTH_STORAGE_KEY, subscribeUrl, takeEarlySocket } from './earlySocket'

const ENDPOINT = 'ws://host/api/v1/subscribe-user'

function earlySocket(url: string, readyState: number) {
  const socket = { url, readyState, close: vi.fn() }
  window.__balsamEarlySocket = socket as unknown as WebSocket
  return socket
}

afterEach(() => {
  window.__balsamEarlySocket = null
})

describe('takeEarlySocket', () => {
  it('hands the page’s early socket over once', () => {
    const socket = earlySocket(ENDPOINT, WebSocket.CONNECTING)
    expect(takeEarlySocket(ENDPOINT)).toBe(socket)
    expect(takeEarlySocket(ENDPOINT)).toBeNull()
    expect(socket.close).not.toHaveBeenCalled()
  })

  it('closes and refuses one that is closing, closed or for another endpoint', () => {
    for (const [url, state] of [
      [ENDPOINT, WebSocket.CLOSING],
      [ENDPOINT, WebSocket.CLOSED],
      ['ws://other/api/v1/subscribe-user', WebSocket.OPEN],
    ] as const) {
      const socket = earlySocket(url, state)
      expect(takeEarlySocket(ENDPOINT)).toBeNull()
      expect(socket.close).toHaveBeenCalledOnce()
    }
  })

  it('answers null when the page opened none (no stored login)', () => {
    expect(takeEarlySocket(ENDPOINT)).toBeNull()
  })
})

describe('subscribeUrl', () => {
  it('is the same endpoint public/early-socket.js opens', () => {
    expect(subscribeUrl({ protocol: 'https:', host: 'h' })).toBe('wss://h/api/v1/subscribe-user')
  })
})

describe('public/early-socket.js', () => {
  const script = readFileSync('public/early-socket.js', 'utf8')
  const opened: string[] = []
  class RecordingSocket {
    constructor(readonly url: string) {
      opened.push(url)
    }
    close() {}
  }

  afterEach(() => {
    localStorage.clear()
    opened.length = 0
  })

  it('opens the stream’s socket for a stored, unexpired login, and only then', () => {
    const page: { __balsamEarlySocket?: unknown } = {}
    const globals = { localStorage, location, setTimeout, Date, JSON, WebSocket: RecordingSocket }
    const run = () => void runInNewContext(script, { ...globals, window: page })
    run()
    expect(opened).toEqual([])

    localStorage.setItem(AUTH_STORAGE_KEY, JSON.stringify({ token: 't', expiresAt: 1 }))
    run()
    expect(opened).toEqual([])

    const expiresAt = Date.now() + 60_000
    localStorage.setItem(AUTH_STORAGE_KEY, JSON.stringify({ token: 't', expiresAt }))
    run()
    expect(opened).toEqual([subscribeUrl()])
    expect(page.__balsamEarlySocket).toBeInstanceOf(RecordingSocket)
  })
})
