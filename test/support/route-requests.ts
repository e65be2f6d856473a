import fc from 'fast-check';
import type { RouteOptions } from 'fastify';
import type { IdPool } from './id-pool.ts';
import { paypalSignature, stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';
import {
  anyJson,
  hostileString,
  mutatedValue,
  validValue,
  type JsonSchema,
  type PropertyHints,
} from './schema-arbitrary.ts';

// Hostile and semi-valid HTTP requests for one route, derived from the route's own schemas:
// path parameters (the caller's real ids, another merchant's, hostile text, broken
// percent-encodings), query strings, bodies, content types, API keys and Idempotency-Keys.

/** Who a route lets in, found by asking the app (see route-fuzz.test.ts). */
export type RouteScope = 'merchant' | 'admin' | 'public';

export interface FuzzTargets {
  /** Resources of the merchant whose key is `keys.own`. */
  own: IdPool;
  /** Another merchant's resources. */
  other: IdPool;
  keys: { own: string; other: string; admin: string };
  webhookSecrets: { stripe: string; paypal: string };
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface FuzzRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'] & { params?: JsonSchema; querystring?: JsonSchema; body?: JsonSchema };
  scope: RouteScope;
}

/** Values that get a request past validation to where the work is: real ids, tokens, currencies. */
function propertyHints(targets: FuzzTargets): PropertyHints {
  const ids = (type?: string) =>
    fc.oneof({ weight: 4, arbitrary: targets.own.id(type) }, { weight: 1, arbitrary: targets.other.id(type) });
  const hints: Record<string, fc.Arbitrary<unknown>> = {
    currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR', 'JPY', 'XXX', 'ZZZ'),
    token: fc.constantFrom('tok_visa', 'tok_mastercard', 'tok_chargeDeclined', 'tok_insufficientFunds', 'tok_riskHigh'),
    account_id: ids('account'),
    from_account_id: ids('account'),
    to_account_id: ids('account'),
    starting_after: ids(),
    event_id: ids('event'),
    url: fc.constantFrom('https://example.com/hook', 'http://127.0.0.1:9/fuzz', 'http://169.254.169.254/', 'ftp://x'),
  };
  return (name) => hints[name];
}

/** Now and then a value, mostly null. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** Text an HTTP header can carry: visible ASCII, space, tab and obs-text (Latin-1). */
const headerText = (minLength: number, maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((code) => code !== 0x7f)
      .map((code) => String.fromCharCode(code)),
    minLength,
    maxLength,
  });

const unreserved = /[A-Za-z0-9\-._~]/;

/** Percent-encodes every byte of the text's UTF-8 form (lone surrogates become U+FFFD). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return byte < 0x80 && unreserved.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** Path segments and query text sent as they are: broken or surprising encodings. */
const rawEncodings = fc.constantFrom(
  '%',
  '%zz',
  '%00',
  '%ED%A0%80', // a lone surrogate in (invalid) UTF-8
  '%C0%AE%C0%AE', // overlong dots
  '%FF%FE',
  '..',
  '.',
  '%2e%2e%2f',
  'a%2Fb',
  'a;b=c',
  '*',
  '%E2%80%AE',
);

/**
 * A path parameter: mostly an id of the resource the path names (`/v1/payments/:id` holds a
 * `payment`, as the API names collections after their objects), or a hostile stand-in.
 */
function pathValue(
  name: string,
  collection: string,
  schema: JsonSchema | undefined,
  targets: FuzzTargets,
): fc.Arbitrary<string> {
  const type = collection.replace(/s$/, '');
  const ids = name === 'provider' ? fc.constantFrom('stripe', 'paypal') : targets.own.id(type);
  return fc.oneof(
    { weight: 8, arbitrary: ids.map(percentEncode) },
    { weight: 2, arbitrary: targets.other.id(type).map(percentEncode) },
    { weight: 1, arbitrary: validValue(schema ?? { type: 'string' }).map((value) => percentEncode(String(value))) },
    { weight: 2, arbitrary: hostileString.map(percentEncode) },
    { weight: 1, arbitrary: rawEncodings },
  );
}

function pathArbitrary(route: FuzzRoute, targets: FuzzTargets): fc.Arbitrary<string> {
  const parts = route.url.split('/');
  const segments = parts.map((segment, index) => {
    if (!segment.startsWith(':')) return fc.constant(segment);
    const name = segment.slice(1);
    const schema = (route.schema.params?.properties as Record<string, JsonSchema> | undefined)?.[name];
    return pathValue(name, parts[index - 1] ?? '', schema, targets);
  });
  return fc.tuple(...segments).map((parts) => parts.join('/'));
}

/** Query values that are easy to get wrong: leap seconds, impossible dates, odd numbers. */
const hostileQueryValue = fc.oneof(
  fc.constantFrom(
    '2016-12-31T23:59:60Z',
    '2024-02-30T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '275760-09-14T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999Z',
    '2024-01-01',
    '2024-01-01T00:00:00',
    '2024-01-01T00:00:00+25:00',
    '9999-12-31T23:59:59.999999999Z',
    '1e2',
    '0x10',
    '-0',
    ' 5',
    '5.0',
    '101',
    '0',
    'NaN',
    'Infinity',
    '9007199254740993',
    '',
    'true',
    '[]',
  ),
  hostileString,
);

function queryText(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(queryText);
  if (value === null || value === undefined) return [''];
  return [typeof value === 'object' ? JSON.stringify(value) : String(value)];
}

function queryArbitrary(route: FuzzRoute, hints: PropertyHints): fc.Arbitrary<string> {
  const schema = route.schema.querystring;
  const names = Object.keys((schema?.properties as object | undefined) ?? {});
  const fromSchema: fc.Arbitrary<unknown> = schema
    ? fc.oneof(
        { weight: 3, arbitrary: validValue(schema, hints) },
        { weight: 2, arbitrary: mutatedValue(schema, hints) },
      )
    : fc.constant({});
  const extraKey = names.length > 0 ? fc.oneof(fc.constantFrom(...names), hostileString) : hostileString;
  const extraPairs = fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(
          fc.oneof(
            extraKey,
            extraKey.map((key) => `${key}[]`),
          ),
          hostileQueryValue,
        ),
        { minLength: 1, maxLength: 3 },
      ),
    },
  );
  return fc.tuple(fromSchema, extraPairs, sometimes(rawEncodings)).map(([values, extras, raw]) => {
    const pairs = [
      ...Object.entries((values ?? {}) as Record<string, unknown>).flatMap(([key, value]) =>
        queryText(value).map((text) => [key, text] as const),
      ),
      ...extras,
    ];
    const text = pairs.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`);
    if (raw !== null) text.push(raw);
    return text.length > 0 ? `?${text.join('&')}` : '';
  });
}

/** Bodies a JSON parser or a validator can trip on. */
const rawBodies: fc.Arbitrary<string | Buffer> = fc.constantFrom<string | Buffer>(
  '',
  ' ',
  '{',
  'null',
  '[]',
  '"text"',
  '1e400',
  '{"amount":1e400}',
  '{"amount":-0}',
  '['.repeat(5_000) + ']'.repeat(5_000),
  '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000),
  '\ufeff{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"amount":1,"amount":"1"}',
  '{"reference":"a\\u0000b"}',
  '{"reference":"\\ud800"}',
  `{"reference":"${'r'.repeat(70_000)}"}`,
  Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
);

const contentTypes = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/vnd.api+json',
      'application/json, text/plain',
      '',
    ),
  },
);

/** Provider event envelopes with hostile contents, for the inbound webhook routes. */
const providerEvent = fc
  .record({
    id: fc.oneof(fc.constantFrom('evt_fuzz_1', 'WH-FUZZ-1'), hostileString, anyJson),
    type: fc.constantFrom('charge.captured', 'charge.refunded', 'charge.dispute.created', 'x'),
    event_type: fc.constantFrom('PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.REFUNDED', 'x'),
    data: fc.record({ object: anyJson }),
    resource: anyJson,
  })
  .map((event) => JSON.stringify(event));

function bodyArbitrary(route: FuzzRoute, hints: PropertyHints): fc.Arbitrary<string | Buffer | undefined> {
  const schema = route.schema.body;
  const json = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value) => JSON.stringify(value) ?? '');
  const shaped = schema
    ? [
        { weight: 5, arbitrary: json(validValue(schema, hints)) },
        { weight: 4, arbitrary: json(mutatedValue(schema, hints)) },
      ]
    : route.url.startsWith('/v1/webhooks/')
      ? [{ weight: 5, arbitrary: providerEvent }]
      : [];
  return fc.oneof(
    ...shaped,
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: rawBodies },
    { weight: 1, arbitrary: json(anyJson) },
  );
}

function authorization(route: FuzzRoute, targets: FuzzTargets): fc.Arbitrary<string | undefined> {
  const right = route.scope === 'admin' ? targets.keys.admin : targets.keys.own;
  const wrongScope = route.scope === 'admin' ? targets.keys.own : targets.keys.admin;
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant(`Bearer ${right}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        `Bearer ${wrongScope}`,
        `Bearer ${targets.keys.other}`,
        `bearer \t ${right}`,
        `Bearer ${right}x`,
        `Basic ${Buffer.from(`${right}:`).toString('base64')}`,
        'Bearer',
        'Bearer sk_test_nonexistent',
      ),
    },
    { weight: 1, arbitrary: headerText(0, 300) },
  );
}

const idempotencyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3') },
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom(undefined, '', ' ', 'k'.repeat(200), 'k'.repeat(201), 'ÿé') },
  { weight: 1, arbitrary: headerText(1, 250) },
);

/** Valid signatures (for the configured secrets) on most provider webhooks, so their bodies get read. */
function signatureHeaders(body: string, targets: FuzzTargets, valid: boolean): Record<string, string> {
  const nowMs = Date.now();
  const transmissionTime = new Date(nowMs).toISOString();
  const secrets = valid ? targets.webhookSecrets : { stripe: 'whsec_wrong', paypal: 'whsec_wrong' };
  return {
    'stripe-signature': stripeSignatureHeader(secrets.stripe, body, Math.floor(nowMs / 1000)),
    'paypal-transmission-id': 'fuzz-transmission',
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': paypalSignature(secrets.paypal, {
      transmissionId: 'fuzz-transmission',
      transmissionTime,
      rawBody: body,
    }),
  };
}

export function requestArbitrary(route: FuzzRoute, targets: FuzzTargets): fc.Arbitrary<FuzzRequest> {
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  const hints = propertyHints(targets);
  return fc
    .record({
      path: pathArbitrary(route, targets),
      query: queryArbitrary(route, hints),
      body: hasBody ? bodyArbitrary(route, hints) : sometimes(rawBodies).map((body) => body ?? undefined),
      contentType: contentTypes,
      authorization: authorization(route, targets),
      idempotencyKey,
      signed: fc.boolean(),
    })
    .map(({ path, query, body, contentType, authorization, idempotencyKey, signed }) => {
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      if (body !== undefined && contentType !== undefined) headers['content-type'] = contentType;
      if (route.url.startsWith('/v1/webhooks/') && typeof body === 'string') {
        Object.assign(headers, signatureHeaders(body, targets, signed));
      }
      return { method: route.method, url: `${path}${query}`, headers, payload: body };
    });
}
