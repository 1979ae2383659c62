// Global ids: `Type:<uuid>`, either case in, lower case out; anything else refused, naming the id.
// The hand-written uuid check is compared with the regular expression it replaced on random input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGlobalId, decodeGlobalIdLeniently, malformedIdTypename, parseGlobalId } from '../../src/domain/global-id.js';

const uuid = '019542f5-b3e7-1d02-8000-00000000000a';

describe('global ids', () => {
  it('decode a type and a uuid, lower-casing an upper-case one', () => {
    expect(parseGlobalId(`Session:${uuid}`)).toEqual({ typename: 'Session', id: uuid });
    expect(parseGlobalId(`Device:${uuid.toUpperCase()}`)).toEqual({ typename: 'Device', id: uuid });
    expect(decodeGlobalId(`Identity:${uuid}`, 'Identity')).toEqual({ typename: 'Identity', id: uuid });
  });

  it.each([
    ['no separator', uuid],
    ['an unknown type', `Client:${uuid}`],
    ['a short uuid', `Session:${uuid.slice(1)}`],
    ['a long uuid', `Session:${uuid}0`],
    ['a dash out of place', `Session:${uuid.replace('-b3e7', 'b-3e7')}`],
    ['a letter past f', `Session:${uuid.replace('a', 'g')}`],
    ['a non-ASCII digit', `Session:${uuid.replace('0', '٠')}`],
    ['a second separator', `Session:Session:${uuid}`],
  ])('refuse %s', (_, id) => {
    expect(parseGlobalId(id)).toBeUndefined();
    expect(decodeGlobalIdLeniently(id)).toEqual({ typename: malformedIdTypename, id });
    expect(() => decodeGlobalId(id)).toThrow(`Invalid id ${JSON.stringify(id)}`);
  });

  it('refuse an id of another type than expected, and a non-string', () => {
    expect(() => decodeGlobalId(`Device:${uuid}`, 'Session')).toThrow('expected an id of type Session, got one of type Device');
    expect(() => decodeGlobalId(42)).toThrow('Invalid id 42: expected a string');
  });

  it('accept exactly what the uuid regular expression accepts', () => {
    const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg-Z٠'), minLength: 30, maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), hexish, fc.string()), (candidate) => {
        const parsed = parseGlobalId(`Session:${candidate}`);
        expect(parsed?.id).toBe(pattern.test(candidate) ? candidate.toLowerCase() : undefined);
      }),
      { numRuns: 2000 },
    );
  });
});
