// Puts the test between the page and the real event stream (Playwright's routeWebSocket):
// it records the protocol frames, can cut the connection, keep the page offline for as long
// as it likes, and inject frames, all without a hook in the app.
import type { Page, WebSocketRoute } from '@playwright/test'

export interface StreamControl {
  /** Parsed client hellos, one per connection that reached the server. */
  hellos: { op: string; last_seq: number | null }[]
  /** Parsed `welcome` frames the server sent. */
  welcomes: { seq: number; resumed: boolean }[]
  /** Closes the page's socket (as the server would) and refuses reconnects until `goOnline`. */
  goOffline(code?: number): Promise<void>
  goOnline(): void
  /** Sends a frame to the page as if from the server. */
  inject(frame: object): void
}

export async function controlStream(page: Page): Promise<StreamControl> {
  let offline = false
  let current: WebSocketRoute | null = null
  const control: StreamControl = {
    hellos: [],
    welcomes: [],
    async goOffline(code = 1001) {
      offline = true
      const socket = current
      current = null
      await socket?.close({ code, reason: 'e2e: offline' })
    },
    goOnline() {
      offline = false
    },
    inject(frame) {
      current?.send(JSON.stringify(frame))
    },
  }
  await page.routeWebSocket(/\/api\/v1\/subscribe-user$/, (ws) => {
    if (offline) {
      // Accepted by the mock, then dropped the way a server going away drops it.
      void ws.close({ code: 1001, reason: 'e2e: offline' })
      return
    }
    const server = ws.connectToServer()
    current = ws
    ws.onMessage((message) => {
      const text = message.toString()
      try {
        control.hellos.push(JSON.parse(text) as StreamControl['hellos'][number])
      } catch {
        // not JSON: forwarded all the same
      }
      server.send(message)
    })
    server.onMessage((message) => {
      const text = message.toString()
      if (text.startsWith('{"op":"welcome"')) {
        control.welcomes.push(JSON.parse(text) as StreamControl['welcomes'][number])
      }
      ws.send(message)
    })
  })
  return control
}
