import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Payload } from '@temporalio/common';
import type { AppDependencies } from '../dependencies.ts';
import type { AuthFailureLimiter } from '../auth-failures.ts';
import { presentedKey } from '../auth.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { EncryptionCodec } from '../../temporal/encryption-codec.ts';
import { withErrors } from '../schemas/common.ts';

// The remote codec endpoint of the Temporal Web UI and CLI (Temporal's codec server protocol:
// POST …/decode and …/encode, body and answer `{"payloads":[{"metadata":{…},"data":"…"}]}`,
// bytes in base64). An operator who may read payloads decodes them here, with the keyring, so
// Temporal itself only ever stores ciphertext.
//
// Who may call it: `Authorization: Bearer <CODEC_ACCESS_TOKEN or ADMIN_API_KEY>`, or the codec
// access token as a path segment, /codec/<token>/decode: the Web UI sends no credentials of
// its own (over http it never sends a token), so `--ui-codec-endpoint` carries it in the URL
// and whoever may open the UI may decode. Request log lines mask that segment
// (src/observability/logger.ts). Not part of the merchant API: hidden from the API reference.

/** Temporal refuses payloads over 2 MB by default; the UI sends a few at once. */
export const codecBodyLimitBytes = 8 * 1024 * 1024;
/** Payloads per request; the UI sends one event's (a handful). */
export const maxPayloadsPerCodecRequest = 1_000;
/** How long a browser may reuse an answered preflight. */
const preflightMaxAgeSeconds = 600;

const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/_-]*={0,2}$', maxLength: codecBodyLimitBytes });
const CodecPayload = Type.Object(
  {
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Base64)),
    data: Type.Optional(Base64),
  },
  { additionalProperties: false },
);
const CodecBody = Type.Object(
  { payloads: Type.Array(CodecPayload, { maxItems: maxPayloadsPerCodecRequest }) },
  { additionalProperties: false },
);
type CodecBody = Static<typeof CodecBody>;
const TokenParams = Type.Object(
  { accessToken: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

const hash = (value: string) => createHash('sha256').update(value).digest();

/** Equal-length digests: the comparison time says nothing about the secret. */
function matches(secret: string | undefined, presented: string): boolean {
  return secret !== undefined && timingSafeEqual(hash(secret), hash(presented));
}

function fromWire(payload: Static<typeof CodecPayload>): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toWire(payload: Payload): Static<typeof CodecPayload> {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

export interface CodecDependencies extends AppDependencies {
  authFailures: AuthFailureLimiter;
}

export async function codecRoutes(app: FastifyInstance, deps: CodecDependencies): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = deps;
  const codec = config.keyring ? new EncryptionCodec(config.keyring) : undefined;

  // CORS for the Web UI's origin only: a page elsewhere cannot read the answers.
  api.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && config.codecCorsOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
    }
  });

  const authenticate = (request: FastifyRequest, pathToken: string | undefined) => {
    deps.authFailures.check(request.ip);
    const presented = pathToken ?? presentedKey(request);
    if (presented === undefined) {
      throw new PaymentsError('api_key_invalid', 'Provide the codec access token as "Authorization: Bearer <token>".');
    }
    if (matches(config.codecAccessToken, presented)) return;
    // The admin key opens it as a header, never in a URL that logs and browsers keep.
    if (pathToken === undefined && matches(config.adminApiKey, presented)) return;
    deps.authFailures.failed(request.ip);
    throw new PaymentsError('api_key_invalid', 'Invalid codec access token.');
  };

  const convert = (direction: 'decode' | 'encode', body: CodecBody) => {
    if (!codec) throw new PaymentsError('service_unavailable', 'ENCRYPTION_KEYS is not configured on this server.');
    return {
      payloads: body.payloads.map((payload, index) => {
        try {
          const converted =
            direction === 'decode' ? codec.decodeOne(fromWire(payload)) : codec.encodeOne(fromWire(payload));
          return toWire(converted);
        } catch {
          // Unknown key id, altered bytes or a malformed inner payload: the caller's input, not our fault.
          throw new PaymentsError(
            'parameter_invalid',
            `payloads[${index}] cannot be decrypted with the configured keys.`,
            `payloads[${index}]`,
          );
        }
      }),
    };
  };

  // Authenticated before the body is even validated: a stranger learns nothing from a 400.
  for (const direction of ['decode', 'encode'] as const) {
    const schema = { hide: true, body: CodecBody, response: withErrors({ 200: CodecBody }) };
    api.post(
      `/codec/${direction}`,
      { schema, bodyLimit: codecBodyLimitBytes, onRequest: async (request) => authenticate(request, undefined) },
      async (request) => convert(direction, request.body),
    );
    api.post(
      `/codec/:accessToken/${direction}`,
      {
        schema: { ...schema, params: TokenParams },
        bodyLimit: codecBodyLimitBytes,
        onRequest: async (request) => authenticate(request, (request.params as { accessToken: string }).accessToken),
      },
      async (request) => convert(direction, request.body),
    );
  }

  // The UI's requests carry Content-Type: application/json and X-Namespace, so browsers ask first.
  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !config.codecCorsOrigins.includes(origin)) {
      throw new PaymentsError('permission_denied', 'This origin may not call the codec endpoint (CODEC_CORS_ORIGINS).');
    }
    return reply
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type, x-namespace, authorization')
      .header('access-control-max-age', String(preflightMaxAgeSeconds))
      .code(204)
      .send();
  };
  const Direction = Type.Union([Type.Literal('decode'), Type.Literal('encode')]);
  const preflightSchema = (params: ReturnType<typeof Type.Object>) => ({
    hide: true,
    params,
    response: withErrors({ 204: Type.Null() }),
  });
  api.options(
    '/codec/:direction',
    { schema: preflightSchema(Type.Object({ direction: Direction }, { additionalProperties: false })) },
    preflight,
  );
  api.options(
    '/codec/:accessToken/:direction',
    {
      schema: preflightSchema(
        Type.Object(
          { accessToken: TokenParams.properties.accessToken, direction: Direction },
          { additionalProperties: false },
        ),
      ),
    },
    preflight,
  );
}
