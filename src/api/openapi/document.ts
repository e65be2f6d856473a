import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import { withErrors } from '../schemas/common.ts';
import { errorCatalog, type ErrorCode } from '../../domain/errors.ts';
import { requestIdHeader } from '../errors.ts';
import { documentedEnums, idExamples, namedSchemas, propertyExamples } from './components.ts';
import { operations, tags, type Access, type OperationDoc } from './operations.ts';
import { byStatus, commonErrorCodes, errorMeanings } from './error-codes.ts';

// The OpenAPI 3.1 document at GET /openapi.json (and /docs/json, read by the UI at /docs).
// @fastify/swagger builds it from the routes' TypeBox schemas; `finishDocument` then gives it
// what schemas cannot say: named components, enums, each operation's words, security, error
// codes and examples (src/api/openapi/operations.ts).

type Json = Record<string, unknown>;
type Operation = Json & { parameters?: Json[]; requestBody?: Json; responses?: Record<string, Json> };

const schemasPath = '#/components/schemas/';

const securitySchemes = {
  merchantApiKey: {
    type: 'http' as const,
    scheme: 'bearer',
    bearerFormat: 'sk_test_…',
    description: "A merchant's API key, from POST /v1/merchants (shown once).",
  },
  adminApiKey: {
    type: 'http' as const,
    scheme: 'bearer',
    description: 'The platform operator key: ADMIN_API_KEY (npm start generates and prints one).',
  },
};

const securityOf: Record<Access, Json[]> = {
  merchant: [{ merchantApiKey: [] }],
  admin: [{ adminApiKey: [] }],
  signed: [],
  open: [],
};

/** JSON with sorted keys and no `$id`: equal schemas give equal text, wherever they were declared. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Json)
      .filter(([key, item]) => key !== '$id' && item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // The order of `required` says nothing.
    const text = (key: string, item: unknown) =>
      key === 'required' && Array.isArray(item) ? canonical([...(item as string[])].sort()) : canonical(item);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${text(key, item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A TypeBox schema as JSON, written as @fastify/swagger writes inline ones (a record's values as additionalProperties). */
function plain(value: unknown): Json {
  return JSON.parse(
    JSON.stringify(value, (key, item: unknown) => {
      if (key === '$id') return undefined;
      const anyKey = (item as { patternProperties?: Json } | null)?.patternProperties?.['^.*$'];
      if (anyKey === undefined) return item;
      const { patternProperties: _any, ...rest } = item as Json;
      return { ...rest, additionalProperties: anyKey };
    }),
  ) as Json;
}

const componentByShape = new Map(
  Object.entries(namedSchemas).map(([name, schema]) => [canonical(plain(schema)), name]),
);

/** Every sub-schema equal to a named one becomes a $ref to it (but a component's own root). */
function withRefs(node: unknown, self?: string): unknown {
  if (Array.isArray(node)) return node.map((item) => withRefs(item));
  if (!node || typeof node !== 'object') return node;
  const name = componentByShape.get(canonical(node));
  if (name !== undefined && name !== self) return { $ref: `${schemasPath}${name}` };
  return Object.fromEntries(Object.entries(node as Json).map(([key, item]) => [key, withRefs(item)]));
}

/** `anyOf` of string constants (TypeBox unions of literals) as the enum clients expect. */
function withEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withEnums);
  if (!node || typeof node !== 'object') return node;
  const object = Object.fromEntries(Object.entries(node as Json).map(([key, item]) => [key, withEnums(item)]));
  const members = object.anyOf;
  if (Array.isArray(members) && members.length > 0 && members.every((member) => isStringConstant(member))) {
    const { anyOf: _members, ...rest } = object;
    return { ...rest, type: 'string', enum: (members as Json[]).map((member) => member.const) };
  }
  return object;
}

function isStringConstant(value: unknown): boolean {
  return !!value && typeof value === 'object' && typeof (value as Json).const === 'string';
}

/** Gives the properties of every object schema below `node` their shared examples (propertyExamples). */
function withExamples(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withExamples);
  if (!node || typeof node !== 'object') return node;
  const object = Object.fromEntries(Object.entries(node as Json).map(([key, item]) => [key, withExamples(item)]));
  const properties = object.properties as Record<string, Json> | undefined;
  if (properties && typeof properties === 'object') {
    for (const [name, property] of Object.entries(properties)) {
      const example = propertyExamples[name];
      if (example !== undefined && property.examples === undefined && property.$ref === undefined) {
        properties[name] = { ...property, examples: [example] };
      }
    }
  }
  return object;
}

function components(existing: Json): Json {
  // What @fastify/swagger hoisted (the shared ErrorResponse) is a named component by now.
  const schemas: Json = Object.fromEntries(Object.entries(existing).filter(([, schema]) => !(schema as Json).$ref));
  for (const [name, schema] of Object.entries(namedSchemas)) schemas[name] = withEnums(withRefs(plain(schema), name));
  for (const [name, id] of Object.entries(idExamples)) {
    const properties = (schemas[name] as { properties: Record<string, Json> }).properties;
    properties.id = { ...properties.id, examples: [id] };
  }
  for (const { schema, property, values } of documentedEnums) {
    const properties = (schemas[schema] as { properties: Record<string, Json> }).properties;
    properties[property] = { ...properties[property], enum: [...values] };
  }
  return schemas;
}

function errorExample(code: ErrorCode): Json {
  return { summary: code, value: { error: { type: errorCatalog[code].type, code, message: errorMeanings[code] } } };
}

function errorResponse(status: number, codes: ErrorCode[]): Json {
  const list = codes.map((code) => `\`${code}\`: ${errorMeanings[code]}`).join(' ');
  return {
    description: `${STATUS_CODES[status] ?? 'Error'}. ${list}`,
    content: {
      'application/json': {
        schema: { $ref: `${schemasPath}Error` },
        examples: Object.fromEntries(codes.map((code) => [code, errorExample(code)])),
      },
    },
  };
}

const requestIdHeaderDoc = {
  description: 'The id the log has for this request (`req_…`): quote it to support.',
  schema: { type: 'string', examples: ['req_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b'] },
};
const retryAfterDoc = { description: 'Seconds to wait before retrying.', schema: { type: 'integer', examples: [2] } };
const replayedDoc = {
  description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
  schema: { type: 'string', enum: ['true'] },
};

/** The headers an answer with this status carries. */
function headersOf(status: number, idempotencyKey: 'none' | 'optional' | 'required'): Json {
  const headers: Json = { [requestIdHeader]: requestIdHeaderDoc };
  if (status === 503) headers['Retry-After'] = retryAfterDoc;
  if (status < 300 && idempotencyKey !== 'none') headers['Idempotent-Replayed'] = replayedDoc;
  return headers;
}

function idempotencyKeyOf(operation: Operation): 'none' | 'optional' | 'required' {
  const header = operation.parameters?.find(
    (parameter) => parameter.in === 'header' && String(parameter.name).toLowerCase() === 'idempotency-key',
  );
  if (!header) return 'none';
  return header.required ? 'required' : 'optional';
}

/**
 * The description, and what "Try it out" needs beyond the example: the ids to fill in (each
 * parameter says where to find one) and the note of an example that cannot run as it is.
 */
function withTryItOut(doc: OperationDoc): string {
  const names = Object.keys(doc.example?.ids ?? {}).map((name) => `\`${name}\``);
  const needs = [
    ...(names.length > 0
      ? [`Fill in ${names.join(', ')}: ids are your own, unknown in advance (see the parameter).`]
      : []),
    ...(doc.tryItOut ? [doc.tryItOut] : []),
  ];
  return needs.length > 0 ? `${doc.description}\n\n**Try it out:** ${needs.join(' ')}` : doc.description;
}

function finishOperation(method: string, path: string, operation: Operation): Operation {
  const doc = operations[`${method.toUpperCase()} ${path}`];
  if (!doc) return operation;
  const parameters = operation.parameters ?? [];
  const idempotencyKey = idempotencyKeyOf(operation);
  const codes = [
    ...commonErrorCodes({
      access: doc.access,
      method: method.toUpperCase(),
      hasPathParams: parameters.some((parameter) => parameter.in === 'path'),
      hasQuery: parameters.some((parameter) => parameter.in === 'query'),
      hasBody: operation.requestBody !== undefined,
      idempotencyKey,
      paged: parameters.some((parameter) => parameter.in === 'query' && parameter.name === 'starting_after'),
    }),
    ...(doc.errors ?? []),
  ];
  const responses: Record<string, Json> = {};
  for (const [status, meaning] of Object.entries(doc.success)) {
    responses[status] = { ...operation.responses?.[status], description: meaning };
  }
  for (const [status, grouped] of byStatus(codes)) {
    if (!(String(status) in responses)) responses[String(status)] = errorResponse(status, grouped);
  }
  for (const [status, response] of Object.entries(responses)) {
    response.headers = headersOf(Number(status), idempotencyKey);
  }
  const ids = doc.example?.ids ?? {};
  for (const parameter of parameters) {
    const source = parameter.in === 'path' ? ids[String(parameter.name)] : undefined;
    // An id is the caller's own: a made-up example would answer 404 from "Try it out".
    if (source !== undefined) {
      parameter.description = source;
      continue;
    }
    const examples = parameter.in === 'path' ? doc.example?.params : parameter.in === 'query' ? doc.example?.query : {};
    const example =
      parameter.in === 'header' && parameter.name === 'idempotency-key'
        ? `${doc.operationId}-0001`
        : examples?.[String(parameter.name)];
    if (example !== undefined) parameter.example = example;
    if (parameter.name === 'idempotency-key') {
      parameter.description = 'Makes a retry safe: the same key and request answer the first result (24 h).';
    }
  }
  const body = operation.requestBody?.content as Record<string, Json> | undefined;
  if (body?.['application/json'] && doc.example?.body !== undefined)
    body['application/json'].example = doc.example.body;
  const { responses: _generated, ...rest } = operation;
  return {
    ...rest,
    operationId: doc.operationId,
    summary: doc.summary,
    description: withTryItOut(doc),
    tags: [doc.tag],
    security: securityOf[doc.access],
    responses,
  };
}

/** The generated document, made worth reading (see the comment at the top). */
export function finishDocument(generated: Json): Json {
  const document = withEnums(withRefs(plain(generated))) as Json & {
    paths: Record<string, Record<string, Operation>>;
    components: Json & { schemas?: Json };
  };
  document.paths = withExamples(document.paths) as typeof document.paths;
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, methods]) => [
      path,
      Object.fromEntries(
        Object.entries(methods).map(([method, operation]) => [method, finishOperation(method, path, operation)]),
      ),
    ]),
  );
  return {
    ...document,
    openapi: '3.1.0',
    paths,
    components: { ...document.components, schemas: withExamples(components(document.components.schemas ?? {})) },
  };
}

export async function registerOpenApi(api: FastifyInstance): Promise<void> {
  await api.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payment orchestrator API',
        version: '0.1.0',
        description:
          'Payments, refunds, accounts, deposits, transfers and their events, run durably on Temporal. Amounts are integers in the currency’s minor unit (1000 USD = 10.00 USD). Every error answers `{ "error": { "type", "code", "message", "param" } }`; every answer carries a Request-Id header.',
      },
      tags: tags.map((tag) => ({ ...tag })),
      components: { securitySchemes },
    },
    // Kept as TypeBox wrote them, so inline schemas equal the named ones (withRefs).
    convertConstToEnum: false,
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (({ openapiObject }: { openapiObject: Json }) => finishDocument(openapiObject)) as never,
  });
  await api.register(swaggerUi, { routePrefix: '/docs' });
  // The document itself, at the address clients and generators look for first; sent as text,
  // so no response serializer trims it to the schema declared here.
  api.get(
    '/openapi.json',
    {
      schema: {
        hide: true,
        response: withErrors({ 200: Type.Object({ openapi: Type.String() }, { additionalProperties: true }) }),
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(api.swagger())),
  );
}
