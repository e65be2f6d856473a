// A JSON value with its objects' keys in the order PostgreSQL's jsonb keeps them: shorter keys
// first (length in UTF-8 bytes), then bytewise. What a jsonb column reads back as; a value kept
// encrypted (as text, not jsonb) reads in the order it was written, so reads that must show
// exactly what a jsonb column showed before pass it through this.

const utf8 = (key: string) => Buffer.from(key, 'utf8');

function jsonbKeyOrder(a: string, b: string): number {
  const left = utf8(a);
  const right = utf8(b);
  return left.length - right.length || Buffer.compare(left, right);
}

export function inJsonbOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inJsonbOrder);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).sort(([a], [b]) => jsonbKeyOrder(a, b));
  return Object.fromEntries(entries.map(([key, item]) => [key, inJsonbOrder(item)]));
}
