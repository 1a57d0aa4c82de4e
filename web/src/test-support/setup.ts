// Vitest setup: a clean localStorage for every test.
import { afterEach } from 'vitest'

afterEach(() => {
  if (typeof localStorage !== 'undefined') localStorage.clear()
})
