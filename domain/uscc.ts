/**
 * The unified social credit code (统一社会信用代码, GB 32100-2015) that
 * identifies a supplier on its business licence (营业执照). A supplier review
 * starts from the licence, so a mistyped code is refused here before it keys
 * a case or a workflow id.
 *
 * Layout of the 18 characters:
 *   1      registration authority code (登记管理部门代码)
 *   2      organisation category code (机构类别代码)
 *   3–8    administrative division code (登记管理机关行政区划码), 6 digits
 *   9–17   organisation code (主体标识码, per GB 11714)
 *   18     check character (校验码)
 */

/**
 * The 31 characters the standard allows, in the order that gives each its
 * value. I, O, Z, S and V are left out because they are easily mistaken for
 * 1, 0, 2, 5 and U when read from a paper licence.
 */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export const CREDIT_CODE_LENGTH = 18;

/** Weight of position i (1-based) is 3^(i−1) mod 31. */
export const CREDIT_CODE_WEIGHTS: readonly number[] = Array.from({ length: CREDIT_CODE_LENGTH - 1 }, (_, i) => {
  let weight = 1;
  for (let k = 0; k < i; k++) weight = (weight * 3) % 31;
  return weight;
});

/** The check character (position 18) for the first 17 characters of a code. */
export function creditCodeCheckChar(first17: string): string {
  if (typeof first17 !== 'string' || first17.length !== CREDIT_CODE_LENGTH - 1) {
    throw new RangeError(`the check character needs exactly 17 characters, got ${describeLength(first17)}`);
  }
  let sum = 0;
  for (let i = 0; i < first17.length; i++) {
    const value = CREDIT_CODE_CHARSET.indexOf(first17.charAt(i));
    if (value < 0) {
      throw new RangeError(`character "${first17.charAt(i)}" at position ${i + 1} is not allowed in a credit code`);
    }
    sum += value * CREDIT_CODE_WEIGHTS[i]!;
  }
  const check = (31 - (sum % 31)) % 31;
  return CREDIT_CODE_CHARSET.charAt(check);
}

export type CreditCodeValidation = { ok: true; code: string } | { ok: false; reason: string };

/**
 * Checks a code as a person typed it: surrounding spaces and lower case are
 * forgiven (the normalised code is returned), anything else is refused with a
 * sentence that says what to fix.
 */
export function validateCreditCode(input: string): CreditCodeValidation {
  if (typeof input !== 'string') {
    return { ok: false, reason: 'The unified social credit code must be given as text.' };
  }
  const code = input.trim().toUpperCase();
  if (code.length !== CREDIT_CODE_LENGTH) {
    return {
      ok: false,
      reason: `The unified social credit code must have 18 characters, but ${code.length} were given.`,
    };
  }
  for (let i = 0; i < code.length; i++) {
    const char = code.charAt(i);
    if (!CREDIT_CODE_CHARSET.includes(char)) {
      return {
        ok: false,
        reason:
          `Character "${char}" at position ${i + 1} is not allowed in a unified social credit code: ` +
          'only digits and the capital letters other than I, O, Z, S and V are used.',
      };
    }
  }
  const division = code.slice(2, 8);
  if (!/^[0-9]{6}$/.test(division)) {
    return {
      ok: false,
      reason: `Positions 3–8 hold the administrative division code and must all be digits, but "${division}" was given.`,
    };
  }
  const expected = creditCodeCheckChar(code.slice(0, CREDIT_CODE_LENGTH - 1));
  const found = code.charAt(CREDIT_CODE_LENGTH - 1);
  if (expected !== found) {
    return {
      ok: false,
      reason: `The check character (position 18) should be "${expected}" but "${found}" was found; the code is probably mistyped.`,
    };
  }
  return { ok: true, code };
}

function describeLength(value: unknown): string {
  return typeof value === 'string' ? `${value.length}` : typeof value;
}
