import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildApp } from '../../src/api/build.ts';
import { loadConfig } from '../../src/config.ts';
import { errorCatalog, isErrorCode } from '../../src/domain/errors.ts';
import { paymentStatuses } from '../../src/domain/payment-state.ts';
import { eventTypes } from '../../src/events/catalog.ts';
import { operations, tags } from '../../src/api/openapi/operations.ts';
import { Validator } from '@seriousme/openapi-schema-validator';

// The API reference (GET /openapi.json), from an app built with no database or Temporal behind
// it: registering the routes and generating the document touch neither.

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Json[];
  parameters?: (Json & { name: string; in: string; schema: Json; example?: unknown })[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<
    string,
    { description: string; headers?: Json; content?: Record<string, { schema: Json; examples?: Json }> }
  >;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const methods = ['get', 'post', 'put', 'patch', 'delete'];
/** Swagger UI's pages and assets, and the document itself: not operations of the API. */
// Prometheus' scrape target is for operators (docs/operations.md), not part of the API.
const isDocumentation = (url: string) =>
  url === '/docs' ||
  url.startsWith('/docs/') ||
  url === '/openapi.json' ||
  url === '/metrics' ||
  url.startsWith('/codec/');

let app: FastifyInstance;
const routes: RouteOptions[] = [];
let document: Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const documentId = 'https://payments.test/openapi.json';

const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validates against a schema of the document, its $refs resolved within it. */
function validatorAt(pointer: string) {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${documentId}#${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

const pointerPart = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');

function allOperations(): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

beforeAll(async () => {
  app = await buildApp(
    { prisma: {} as never, temporal: {} as never, config: loadConfig() },
    {
      logger: false,
      bodyLimitBytes: 64 * 1024,
      requestTimeoutMs: 5_000,
      onRoute: (route) => routes.push(route),
    },
  );
  await app.ready();
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  document = response.json();
  ajv.addSchema({ ...document, $id: documentId });
});
afterAll(async () => app?.close());

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (the official OAS schema, with its $refs resolved)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Json);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('is the same at /docs/json, which the UI at /docs reads', async () => {
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).json()).toEqual(document);
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('has every $ref pointing at a component that exists', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of new Set(refs)) {
      const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
      expect(name, ref).toBeDefined();
      expect(document.components.schemas[name!], ref).toBeDefined();
    }
  });

  it('has every schema a valid JSON Schema 2020-12', () => {
    for (const name of Object.keys(document.components.schemas)) {
      expect(() => validatorAt(`/components/schemas/${pointerPart(name)}`), name).not.toThrow();
    }
  });

  it('documents every route the app registers, with summary, description, tag and security', () => {
    const registered = routes
      .flatMap((route) => (Array.isArray(route.method) ? route.method : [route.method]).map((m) => [m, route.url]))
      .filter(([method, url]) => method !== 'HEAD' && !isDocumentation(url!));
    expect(registered.length).toBeGreaterThan(40);
    const tagNames: string[] = tags.map((tag) => tag.name);
    for (const [method, url] of registered) {
      const path = url!.replace(/:(\w+)/g, '{$1}');
      const operation = document.paths[path]?.[method!.toLowerCase()];
      expect(operation, `${method} ${url} is not in the document`).toBeDefined();
      expect(operation!.summary, `${method} ${url}`).toMatch(/\S/);
      expect(operation!.description, `${method} ${url}`).toMatch(/\S{20}|\s\S/);
      expect(operation!.tags).toHaveLength(1);
      expect(tagNames).toContain(operation!.tags![0]);
      expect(operation!.security, `${method} ${url}`).toBeDefined();
      for (const requirement of operation!.security!) {
        for (const scheme of Object.keys(requirement))
          expect(document.components.securitySchemes).toHaveProperty(scheme);
      }
    }
    // Each status a route declares is in the document, and only those succeed there.
    for (const route of routes.filter((candidate) => !isDocumentation(candidate.url))) {
      const declared = Object.keys((route.schema as { response?: Json } | undefined)?.response ?? {});
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      for (const method of (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD')) {
        const documented = Object.keys(document.paths[path]![method.toLowerCase()]!.responses);
        const where = `${method} ${route.url}`;
        for (const status of declared.filter((key) => /^\d+$/.test(key))) expect(documented, where).toContain(status);
        for (const status of documented.filter((key) => Number(key) < 400)) expect(declared, where).toContain(status);
      }
    }
    // And the table describes nothing that is not there.
    for (const key of Object.keys(operations)) {
      const [method, path] = key.split(' ');
      expect(document.paths[path!]?.[method!.toLowerCase()], key).toBeDefined();
    }
    expect(new Set(allOperations().map(({ operation }) => operation.operationId)).size).toBe(allOperations().length);
  });

  it('marks merchant routes with the merchant key, admin routes with the admin key', () => {
    const security = (method: string, path: string) => document.paths[path]![method]!.security;
    expect(security('post', '/v1/payments')).toEqual([{ merchantApiKey: [] }]);
    expect(security('post', '/v1/merchants')).toEqual([{ adminApiKey: [] }]);
    expect(security('post', '/v1/webhooks/{provider}')).toEqual([]);
    expect(document.components.securitySchemes.merchantApiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('names every status with its meaning, and each error status with codes of that status', () => {
    for (const { method, path, operation } of allOperations()) {
      const where = `${method} ${path}`;
      expect(Object.keys(operation.responses).length, where).toBeGreaterThan(1);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(status, where).toMatch(/^[1-5]\d\d$/);
        expect(response.description, `${where} ${status}`).not.toMatch(/Default Response/);
        expect(response.description, `${where} ${status}`).toMatch(/\S/);
        const examples = response.content?.['application/json']?.examples;
        if (Number(status) < 400 || !examples) continue;
        for (const [code, example] of Object.entries(examples)) {
          expect(isErrorCode(code), `${where} ${code}`).toBe(true);
          if (isErrorCode(code)) expect(errorCatalog[code].status, `${where} ${code}`).toBe(Number(status));
          expect(response.description).toContain(`\`${code}\``);
          const validate = validatorAt('/components/schemas/Error');
          expect(validate((example as { value: unknown }).value), `${where} ${code}`).toBe(true);
        }
      }
    }
    const create = document.paths['/v1/payments']!.post!.responses;
    expect(Object.keys(create)).toEqual([
      '201',
      '202',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '422',
      '429',
      '500',
      '503',
    ]);
    expect(create['422']!.description).toContain('idempotency_key_reused');
    expect(Object.keys(create['201']!.headers ?? {})).toEqual(['Request-Id', 'Idempotent-Replayed']);
    expect(Object.keys(create['503']!.headers ?? {})).toEqual(['Request-Id', 'Retry-After']);
  });

  it('has named components for the resources, referenced by the routes, with enums for statuses and types', () => {
    const schemas = document.components.schemas;
    for (const name of [
      'Payment',
      'PaymentList',
      'Refund',
      'Account',
      'Deposit',
      'Transfer',
      'Event',
      'EventList',
      'WebhookEndpoint',
      'WebhookEndpointList',
      'PaymentRecord',
      'ImportRun',
      'ImportRunList',
      'ReconciliationRun',
      'ReconciliationItem',
      'Error',
    ]) {
      expect(schemas, name).toHaveProperty(name);
    }
    const json = (status: string, method: string, path: string) =>
      document.paths[path]![method]!.responses[status]!.content!['application/json']!.schema;
    expect(json('201', 'post', '/v1/payments')).toEqual({ $ref: '#/components/schemas/Payment' });
    expect(json('200', 'get', '/v1/payments')).toEqual({ $ref: '#/components/schemas/PaymentList' });
    expect(json('200', 'get', '/v1/imports')).toEqual({ $ref: '#/components/schemas/ImportRunList' });
    expect(json('404', 'get', '/v1/payments/{id}')).toEqual({ $ref: '#/components/schemas/Error' });
    const properties = (name: string) => schemas[name]!.properties as Record<string, Json>;
    expect(properties('Payment').status!.enum).toEqual([...paymentStatuses]);
    expect(properties('Event').type!.enum).toEqual([...eventTypes]);
    expect(properties('Transfer').status!.enum).toEqual(['pending', 'succeeded', 'failed']);
    expect(properties('ReconciliationRun').status!.enum).toEqual(['running', 'completed', 'failed']);
    const listStatus = document.paths['/v1/payments']!.get!.parameters!.find(
      (parameter) => parameter.name === 'status',
    );
    expect(listStatus!.schema.enum).toEqual([...paymentStatuses]);
    // No `anyOf` of constants is left for a generator to turn into a wrapper type.
    expect(JSON.stringify(document)).not.toMatch(/"anyOf":\[\{"const"/);
  });

  it('has examples that validate against their own schemas, and none a generator made up', () => {
    let bodies = 0;
    for (const { method, path, operation } of allOperations()) {
      const base = `/paths/${pointerPart(path)}/${method}`;
      const media = operation.requestBody?.content['application/json'];
      if (media?.example !== undefined) {
        bodies += 1;
        const validate = validatorAt(`${base}/requestBody/content/application~1json/schema`);
        expect(validate(media.example), `${method} ${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
      for (const [index, parameter] of (operation.parameters ?? []).entries()) {
        // A path parameter is either filled in (a provider's name) or an id of the caller's own,
        // left empty with a description that says where to find one.
        if (parameter.in === 'path' && parameter.example === undefined) {
          expect(parameter.description, `${method} ${path} ${parameter.name}`).toMatch(
            /^An? [a-z ]+'s id \(`[a-z]+_…`\): `id` (in|of one in) (the answer of )?(POST|GET) \/v1\//,
          );
          expect(operation.description, `${method} ${path}`).toContain(`Fill in \`${parameter.name}\``);
        }
        if (parameter.example === undefined) continue;
        const validate = validatorAt(`${base}/parameters/${index}/schema`);
        expect(validate(parameter.example), `${method} ${path} ${parameter.name}`).toBe(true);
      }
    }
    expect(bodies).toBeGreaterThan(10);
    // Every example a schema carries (what a UI draws its samples from) is valid for it.
    const withExamples: string[] = [];
    const walk = (node: unknown, pointer: string) => {
      if (!node || typeof node !== 'object') return;
      if (!Array.isArray(node) && Array.isArray((node as Json).examples) && pointer.includes('schema')) {
        withExamples.push(pointer);
      }
      for (const [key, item] of Object.entries(node)) walk(item, `${pointer}/${pointerPart(key)}`);
    };
    walk(document, '');
    expect(withExamples.length).toBeGreaterThan(80);
    for (const pointer of withExamples) {
      const schema = pointer
        .split('/')
        .slice(1)
        .reduce<unknown>(
          (node, part) => (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')],
          document,
        ) as Json;
      for (const example of schema.examples as unknown[]) {
        expect(validatorAt(pointer)(example), `${pointer}: ${JSON.stringify(example)}`).toBe(true);
      }
    }
    const payment = document.components.schemas.Payment!.properties as Record<string, Json>;
    expect(payment.id!.examples).toEqual([expect.stringMatching(/^pay_/)]);
    expect(payment.currency!.examples).toEqual(['USD']);
    expect(payment.amount!.examples).toEqual([1000]);
    const text = JSON.stringify(document);
    expect(text).not.toContain('9007199254740991,"currency"');
    expect(text).not.toMatch(/"example":"(string|DZF)"/);
    expect(text).not.toMatch(/"example":9007199254740991/);
    expect(document.paths['/v1/payments']!.post!.requestBody!.content['application/json']!.example).toEqual({
      amount: 1000,
      currency: 'USD',
      source: { type: 'card', token: 'tok_visa' },
      description: 'Order #1001',
    });
  });
});
