// @vitest-environment node
// Fails when schema.d.ts is not what `npm run gen:api` makes of the server's committed
// openapi.json: regenerate it (`npm run gen:api`) after every API change.
import { fileURLToPath } from 'node:url'

import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'
import { describe, expect, it } from 'vitest'

const SPEC = new URL('../../../crates/balsam-server/openapi.json', import.meta.url)

describe('generated API types', () => {
  it('match the server’s committed openapi.json', async () => {
    const generated = COMMENT_HEADER + astToString(await openapiTS(SPEC))

    await expect(generated).toMatchFileSnapshot(
      fileURLToPath(new URL('./schema.d.ts', import.meta.url)),
    )
  })
})
