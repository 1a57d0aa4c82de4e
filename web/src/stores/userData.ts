// Everything the stores hold belongs to one login: forget it all when that login ends, so the
// next user of this tab never sees the previous user's rows.
import type { Pinia } from 'pinia'

import { getMemo } from '@/api/getMemo'

import { USER_DATA_STORES } from './registry'

export function clearUserData(pinia?: Pinia): void {
  getMemo.clear()
  for (const useStore of USER_DATA_STORES) useStore(pinia).clear()
}
