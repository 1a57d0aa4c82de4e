// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { describe, expect, it } from 'vitest'

import { normalizeChange, parseChange, parseServerFrame } from './change'

describe('parseChange', () => {
  it('reads upstream’s envelope', () => {
    const text = '{"action": "create", "type": "site", "data": {"id": 8, "name": "s"}}'

    expect(parseChange(text)).toEqual({
      action: 'create',
      type: 'site',
      data: { id: 8, name: 's' },
    })
  })

  it('keeps an integer seq and drops any other', () => {
    expect(parseChange('{"action":"update","type":"job","data":[],"seq":42}')?.seq).toBe(42)
    expect(parseChange('{"action":"update","type":"job","data":[],"seq":"42"}')).not.toHaveProperty(
      'seq',
    )
  })

  it.each([
    ['not JSON', '{oops'],
    ['not an object', '[1,2]'],
    ['an unknown action', '{"action":"upsert","type":"site","data":{}}'],
    ['an unknown type', '{"action":"create","type":"user","data":{}}'],
    ['a missing action', '{"type":"site","data":{}}'],
  ])('rejects %s', (_, text) => {
    expect(parseChange(text)).toBeNull()
  })
})

describe('normalizeChange', () => {
  it('turns a single instance into one upsert row', () => {
    expect(normalizeChange({ action: 'update', type: 'app', data: { id: 3, name: 'A' } })).toEqual({
      op: 'upsert',
      rows: [{ id: 3, name: 'A' }],
    })
  })

  it('turns a list (bulk or list-wise) into many rows, dropping ones without an id', () => {
    const change = normalizeChange({
      action: 'bulk-update',
      type: 'job',
      data: [{ id: 1 }, { name: 'no id' }, null, { id: 2 }],
      seq: 5,
    })

    expect(change).toEqual({ op: 'upsert', rows: [{ id: 1 }, { id: 2 }], seq: 5 })
  })

  it.each([
    ['{id}', { id: 4 }, [4]],
    ['{ids}', { ids: [4, 5, 'x'] }, [4, 5]],
    ['a list of ids', [4, 5], [4, 5]],
    ['a list of instances', [{ id: 4 }, { id: 5 }], [4, 5]],
    ['nothing usable', 'nope', []],
  ])('reads delete ids from %s', (_, data, ids) => {
    expect(normalizeChange({ action: 'bulk-delete', type: 'job', data })).toEqual({
      op: 'delete',
      ids,
    })
    expect(normalizeChange({ action: 'delete', type: 'job', data })).toEqual({ op: 'delete', ids })
  })
})

describe('parseServerFrame', () => {
  it('reads a sequenced event', () => {
    expect(parseServerFrame('{"seq":58,"action":"bulk-update","type":"job","data":[]}')).toEqual({
      op: 'event',
      seq: 58,
      change: { seq: 58, action: 'bulk-update', type: 'job', data: [] },
    })
  })

  it('reads the control frames', () => {
    expect(parseServerFrame('{"op":"welcome","seq":57,"resumed":true}')).toEqual({
      op: 'welcome',
      seq: 57,
      resumed: true,
    })
    expect(parseServerFrame('{"op":"resync","seq":90}')).toEqual({ op: 'resync', seq: 90 })
    expect(parseServerFrame('{"op":"heartbeat","seq":0}')).toEqual({ op: 'heartbeat', seq: 0 })
  })

  it.each([
    ['not JSON', '{oops'],
    ['an upstream event (no seq)', '{"action":"create","type":"site","data":{}}'],
    ['a negative seq', '{"seq":-1,"action":"create","type":"site","data":{}}'],
    ['a malformed event', '{"seq":3,"action":"explode","type":"site","data":{}}'],
    ['a welcome without resumed', '{"op":"welcome","seq":1}'],
    ['an unknown op', '{"op":"bye","seq":1}'],
    ['a control frame without seq', '{"op":"heartbeat"}'],
  ])('rejects %s', (_, text) => {
    expect(parseServerFrame(text)).toBeNull()
  })
})
