// A balsam-server of a test's own (not the shared webServer of playwright.config.ts): a fixed
// port and a data directory that outlive a restart, so a test can stop the real process and
// start it again on the same database.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const webDir = fileURLToPath(new URL('..', import.meta.url))
const serverBinary = resolve(
  process.env.BALSAM_SERVER_BIN ?? join(webDir, '..', 'target', 'debug', 'balsam-server'),
)

/** A port nothing listens on right now (the OS picks it; we keep it across restarts). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address
          ? done(address.port)
          : fail(new Error('no port was assigned')),
      )
    })
  })
}

export interface OwnServer {
  baseURL: string
  dataDir: string
  start(): Promise<void>
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits until it has exited. */
  stop(): Promise<void>
  /** Stops it if running and removes its data. */
  dispose(): Promise<void>
}

export async function ownServer(): Promise<OwnServer> {
  const port = await freePort()
  const baseURL = `http://127.0.0.1:${port}`
  const dataDir = mkdtempSync(join(tmpdir(), 'balsam-e2e-own-'))
  let child: ChildProcess | null = null
  let stderr = ''

  async function healthy(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      if (child?.exitCode != null) {
        throw new Error(`balsam-server exited (${child.exitCode}): ${stderr.slice(-2000)}`)
      }
      try {
        const response = await fetch(`${baseURL}/api/v1/auth/how`)
        if (response.ok) return
      } catch {
        // not listening yet
      }
      await new Promise((wait) => setTimeout(wait, 100))
    }
    throw new Error(`balsam-server did not answer on ${baseURL}: ${stderr.slice(-2000)}`)
  }

  const server: OwnServer = {
    baseURL,
    dataDir,
    async start() {
      stderr = ''
      child = spawn(
        serverBinary,
        [
          'serve',
          '--bind',
          `127.0.0.1:${port}`,
          '--data-dir',
          dataDir,
          '--web-dir',
          join(webDir, 'dist'),
        ],
        {
          env: { ...process.env, BALSAM_TELEMETRY__LOG_FILTER: 'warn' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      await healthy(Date.now() + 30_000)
    },
    async stop() {
      const running = child
      child = null
      if (running === null || running.exitCode !== null) return
      const exited = new Promise<void>((done) => running.once('exit', () => done()))
      running.kill('SIGTERM')
      const timer = setTimeout(() => running.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
    async dispose() {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return server
}
