import { describe, expect, it } from 'vitest';
import { CREDIT_CODE_CHARSET, CREDIT_CODE_WEIGHTS, creditCodeCheckChar, validateCreditCode } from '../../domain/uscc';

// Codes printed on real business licences; each was checked against the
// GB 32100-2015 algorithm independently of this implementation.
const PUBLISHED_CODES = ['91350100M000100Y43', '91110000600037341L', '91440300708461136T', '9111000071093123XX'];

/** Builds a valid code from 17 characters, for tests that need many. */
function withCheck(first17: string): string {
  return first17 + creditCodeCheckChar(first17);
}

function reasonOf(input: string): string {
  const result = validateCreditCode(input);
  if (result.ok) throw new Error(`expected ${input} to be refused`);
  return result.reason;
}

describe('unified social credit code check character', () => {
  it('uses the 31-character set without I, O, Z, S, V and weights 3^(i−1) mod 31', () => {
    expect(CREDIT_CODE_CHARSET).toHaveLength(31);
    for (const excluded of 'IOZSV') expect(CREDIT_CODE_CHARSET).not.toContain(excluded);
    expect(CREDIT_CODE_WEIGHTS).toEqual([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]);
  });

  it('computes the check character of published codes', () => {
    for (const code of PUBLISHED_CODES) expect(creditCodeCheckChar(code.slice(0, 17))).toBe(code.charAt(17));
  });

  it('maps a remainder of 0 to the check character 0, not to 31 (off the charset)', () => {
    // All zeros: sum 0, so 31 − 0 = 31, which the standard folds to 0.
    expect(creditCodeCheckChar('0'.repeat(17))).toBe('0');
    // A non-zero sum that is a multiple of 31: value 1 at position 1 (weight 1)
    // plus value 1 at position 16 (weight 30).
    expect(creditCodeCheckChar('1' + '0'.repeat(14) + '10')).toBe('0');
  });

  it('gives the highest check character Y when the remainder is 1', () => {
    // Value 1 at position 1 (weight 1): 31 − 1 = 30 → Y.
    expect(creditCodeCheckChar('1' + '0'.repeat(16))).toBe('Y');
  });

  it('refuses input it cannot compute from', () => {
    expect(() => creditCodeCheckChar('9135010')).toThrow(RangeError);
    expect(() => creditCodeCheckChar('91350100M000100Y43')).toThrow(/17 characters/);
    expect(() => creditCodeCheckChar('91350100M000100I4')).toThrow(/"I" at position 16/);
    expect(() => creditCodeCheckChar('91350100m000100Y4')).toThrow(/"m" at position 9/);
  });
});

describe('validateCreditCode', () => {
  it('accepts published codes', () => {
    for (const code of PUBLISHED_CODES) expect(validateCreditCode(code)).toEqual({ ok: true, code });
  });

  it('accepts generated codes across the charset', () => {
    for (let i = 0; i < CREDIT_CODE_CHARSET.length; i++) {
      const c = CREDIT_CODE_CHARSET.charAt(i);
      const code = withCheck(`9${c}440300${c.repeat(8)}${CREDIT_CODE_CHARSET.charAt(30 - i)}`);
      expect(validateCreditCode(code)).toEqual({ ok: true, code });
    }
  });

  it('forgives surrounding spaces and lower case, returning the normalised code', () => {
    expect(validateCreditCode('  91350100m000100y43 ')).toEqual({ ok: true, code: '91350100M000100Y43' });
  });

  it('names the length when it is not 18', () => {
    expect(reasonOf('91350100M000100Y4')).toMatch(/18 characters, but 17 were given/);
    expect(reasonOf('91350100M000100Y433')).toMatch(/but 19 were given/);
    expect(reasonOf('   ')).toMatch(/but 0 were given/);
    // Inner spaces are not trimmed away: they count and then fail the charset.
    expect(reasonOf('913501 00M000100Y4')).toMatch(/" " at position 7/);
  });

  it('names a character outside the charset and its position', () => {
    const reason = reasonOf('91350100MO00100Y43');
    expect(reason).toMatch(/"O" at position 10/);
    expect(reason).toMatch(/I, O, Z, S and V/);
    expect(reasonOf('91350100M000100Y4S')).toMatch(/"S" at position 18/);
    expect(reasonOf('91350100M000100Y4-')).toMatch(/"-" at position 18/);
  });

  it('requires digits in the division code (positions 3–8)', () => {
    const code = withCheck('913501A0M000100Y4');
    expect(reasonOf(code)).toMatch(/Positions 3–8 .* "3501A0"/);
    // Letters are fine outside 3–8.
    expect(validateCreditCode(withCheck('Y1350100M000100Y4')).ok).toBe(true);
  });

  it('says which check character was expected and which was found', () => {
    expect(reasonOf('91350100M000100Y44')).toMatch(/should be "3" but "4" was found/);
    // A transposition of two characters is caught.
    expect(reasonOf('91530100M000100Y43')).toMatch(/check character/);
  });

  it('catches every single-character change of a valid code', () => {
    const code = PUBLISHED_CODES[0]!;
    for (let position = 0; position < 18; position++) {
      for (const c of CREDIT_CODE_CHARSET) {
        if (c === code.charAt(position)) continue;
        const mistyped = code.slice(0, position) + c + code.slice(position + 1);
        expect(validateCreditCode(mistyped).ok, mistyped).toBe(false);
      }
    }
  });
});
