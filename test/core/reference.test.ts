import { describe, expect, it } from 'vitest';
import { likelyTypoOf, parseReference } from '../../src/core/reference.js';

describe('parseReference', () => {
  it('parses op references with and without a section and query', () => {
    expect(parseReference('op://Dev/Postgres/password')).toMatchObject({
      scheme: 'op',
      vault: 'Dev',
      item: 'Postgres',
      section: undefined,
      field: 'password',
    });
    expect(parseReference('op://Dev/Stripe Keys/live/secret key?ssh-format=openssh')).toMatchObject({
      item: 'Stripe Keys',
      section: 'live',
      field: 'secret key',
      query: { 'ssh-format': 'openssh' },
    });
  });

  it('parses envmount references', () => {
    expect(parseReference('envmount://app/DATABASE_URL')).toEqual({
      scheme: 'envmount',
      raw: 'envmount://app/DATABASE_URL',
      name: 'app/DATABASE_URL',
    });
  });

  it.each([
    ['op://vault/item', /op:\/\/vault\/item\/field/],
    ['op://vault//field', /empty/],
    ['op://a/b/c/d/e', /op:\/\/vault\/item\/field/],
    ['op://a/b/c?attribute=nope', /attribute must be one of/],
    ['op://a/b/c?colour=red', /unknown query parameter "colour"/],
    ['op://a/b/c?attribute=otp', /one-time password .* expired codes/],
    ['op://a/b/c?attribute=TOTP', /one-time password/],
    ['op://a/b/c?attribute=TYPE', /write attribute=type in lower case/],
    ['op://a/b/c?attribute=type&ssh-format=openssh', /one query parameter/],
    ['op://a/b/c?attribute=type?x', /attribute must be one of/],
    ['op://$VAULT/b/c', /op inject. would expand it/],
    ['op://a/it(em)/c', /"it\(em\)" has a character 1Password does not accept/],
    ['op://a/ité/c', /does not accept/],
    ['op://a/ /c', /empty/],
    ['envmount://', /not a valid name/],
    ['envmount://bad name', /not a valid name/],
    ['OP://a/b/c', /lower case/],
    ['0p://a/b/c', /did you mean op:\/\//],
    ['envmout://X', /did you mean envmount:\/\//],
    ['vault://a/b/c', /only op:\/\/ and envmount:\/\//],
  ])('rejects %s', (raw, message) => {
    expect(() => parseReference(raw)).toThrow(message);
    try {
      parseReference(raw);
    } catch (error) {
      expect(error).toMatchObject({ code: 'REFERENCE_INVALID' });
    }
  });

  it('tells typos of known schemes from other URL schemes', () => {
    expect(likelyTypoOf('0p')).toBe('op');
    expect(likelyTypoOf('envmoutn')).toBe('envmount');
    expect(likelyTypoOf('postgres')).toBeUndefined();
    expect(likelyTypoOf('https')).toBeUndefined();
    expect(likelyTypoOf('redis')).toBeUndefined();
  });
});
