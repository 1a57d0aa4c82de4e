// The page's first socket, opened by `public/early-socket.js` (a classic script that index.html
// runs before the app's modules) while the app's code loads: its handshake is then done when the
// event stream starts, and the welcome, which every first GET waits for, comes sooner. The
// stream takes it here and sends the hello on it.

/** Where the browser keeps its login (stores/auth.ts owns it; early-socket.js reads it). */
export const AUTH_STORAGE_KEY = 'balsam.auth'

/** The event stream's endpoint on this origin (docs/realtime.md; early-socket.js builds the same). */
export function subscribeUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/subscribe-user`
}

declare global {
  interface Window {
    /** Set by public/early-socket.js until taken. */
    __balsamEarlySocket?: WebSocket | null
  }
}

/** The page's early socket for `url`, once, unless it failed or closed already. */
export function takeEarlySocket(url: string): WebSocket | null {
  if (typeof window === 'undefined') return null
  const socket = window.__balsamEarlySocket ?? null
  window.__balsamEarlySocket = null
  if (socket === null) return null
  if (socket.url !== url || socket.readyState > WebSocket.OPEN) {
    socket.close()
    return null
  }
  return socket
}
