// A scriptable stand-in for the browser WebSocket, for event-stream tests.

export class FakeWebSocket {
  static instances: FakeWebSocket[] = []

  binaryType: BinaryType = 'blob'
  readonly sent: string[] = []
  closedWith: number | null = null
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: MessageEvent) => void) | null = null
  onclose: ((event: CloseEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this)
  }

  static reset(): void {
    FakeWebSocket.instances = []
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1)
    if (!socket) throw new Error('no socket was opened')
    return socket
  }

  send(data: string): void {
    this.sent.push(data)
  }

  close(code = 1000): void {
    this.closedWith = code
  }

  // Server side of the script:
  serverOpens(): void {
    this.onopen?.(new Event('open'))
  }

  serverSendsText(payload: unknown): void {
    const data = typeof payload === 'string' ? payload : JSON.stringify(payload)
    this.onmessage?.(new MessageEvent('message', { data }))
  }

  serverSendsBinary(payload: unknown): void {
    const data = new TextEncoder().encode(JSON.stringify(payload)).buffer
    this.onmessage?.(new MessageEvent('message', { data }))
  }

  /** The first frame the client sent, parsed (the hello). */
  hello(): unknown {
    const first = this.sent[0]
    if (first === undefined) throw new Error('nothing was sent')
    return JSON.parse(first) as unknown
  }

  serverCloses(code: number): void {
    this.onerror?.(new Event('error'))
    this.onclose?.(new CloseEvent('close', { code }))
  }
}
