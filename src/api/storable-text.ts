import { PaymentsError } from '../domain/errors.ts';

// Text PostgreSQL cannot store — NUL characters, UTF-16 halves without their pair — and JSON
// nested deeper than any request of ours needs are refused at the boundary with a 400 that
// names the parameter, instead of failing deep inside as a 500 (or, for a workflow's input, as
// a payment that fails minutes after its 202).

/** Deeper than any body or webhook payload this API reads. */
export const maxJsonDepth = 32;

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

function refuse(param: string, message: string): never {
  throw new PaymentsError('parameter_invalid', message, param || undefined);
}

/** Throws 400 parameter_invalid at the first unstorable string or key in `value`. */
export function assertStorable(value: unknown, param = '', depth = 0): void {
  if (depth > maxJsonDepth) refuse(param, `Nested deeper than ${maxJsonDepth} levels.`);
  if (typeof value === 'string') {
    if (unstorable.test(value)) refuse(param, `${param || 'A value'} contains a NUL character or broken Unicode.`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    const path = param ? `${param}.${key}` : key;
    if (unstorable.test(key)) refuse(param, 'A key contains a NUL character or broken Unicode.');
    assertStorable(item, path, depth + 1);
  }
}
