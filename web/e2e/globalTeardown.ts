// After the suite: remove the data directory of the server it ran against
// (playwright.config.ts names it; the server is stopped after this runs, which on Linux
// keeps its open files until it exits).
import { rmSync } from 'node:fs'

export default function globalTeardown(): void {
  const dir = process.env.BALSAM_E2E_DATA_DIR
  if (dir !== undefined && dir !== '') rmSync(dir, { recursive: true, force: true })
}
