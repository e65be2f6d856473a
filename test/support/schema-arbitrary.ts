import fc from 'fast-check';

// fast-check arbitraries derived from a route's JSON Schema (TypeBox output): values the schema
// accepts, and values one mutation away from it (a wrong type, out of range, an extra or a
// missing field), so a fuzzer reaches past validation as well as into it.

export type JsonSchema = { [key: string]: unknown };

/** Values for properties whose valid text the schema cannot say (ids, tokens, currencies). */
export type PropertyHints = (name: string) => fc.Arbitrary<unknown> | undefined;

const maxGeneratedLength = 24;

/** Strings no route should choke on: NUL, lone surrogates, huge, unicode, injections. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\ufeff',
    '🙂',
    'İ',
    '\u202e',
    '../../etc/passwd',
    '%00',
    '%zz',
    "' OR 1=1 --",
    '__proto__',
    'constructor',
    '${jndi:ldap://x}',
    'null',
    'x'.repeat(256),
    'y'.repeat(20_000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 80 }),
);

/** JSON values of every type, for a field that should hold something else. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 2, [], {}, '', '100'),
  hostileString,
  fc.jsonValue({ maxDepth: 3 }),
);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0;
  const maxLength = Math.min((schema.maxLength as number | undefined) ?? maxGeneratedLength, maxGeneratedLength);
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString());
  }
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern);
    return fc.stringMatching(pattern).filter((text) => text.length >= minLength && text.length <= maxLength);
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const min = (schema.minimum as number | undefined) ?? -1_000_000;
  const max = (schema.maximum as number | undefined) ?? 1_000_000;
  // Mostly small amounts, so money can move; the bounds themselves now and then.
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: Math.max(min, Math.min(max, 1)), max: Math.min(max, 5_000) }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
}

function objectArbitrary(schema: JsonSchema, hints: PropertyHints): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 && isObject(schema.patternProperties)) {
    const [valueSchema] = Object.values(schema.patternProperties) as JsonSchema[];
    const maxKeys = Math.min((schema.maxProperties as number | undefined) ?? 4, 4);
    return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), validValue(valueSchema ?? {}, hints), { maxKeys });
  }
  const model = Object.fromEntries(
    names.map((name) => [name, hints(name) ?? validValue(properties[name] ?? {}, hints)]),
  );
  return fc.record(model, { requiredKeys: (schema.required as string[] | undefined) ?? [] }) as fc.Arbitrary<
    Record<string, unknown>
  >;
}

/** A value the schema accepts (hints may stand in for a property's value). */
export function validValue(schema: JsonSchema, hints: PropertyHints = () => undefined): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const choices = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (choices) return fc.oneof(...choices.map((choice) => validValue(choice, hints)));
  switch (schema.type) {
    case 'object':
      return objectArbitrary(schema, hints);
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = (schema.minItems as number | undefined) ?? 0;
      const maxLength = Math.max(minLength, Math.min((schema.maxItems as number | undefined) ?? 3, 3));
      return fc.array(validValue(schema.items as JsonSchema, hints), { minLength, maxLength });
    }
    default:
      return anyJson;
  }
}

/** Values a field of this schema must refuse, or at least must not choke on. */
function wrongValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const outOfRange: unknown[] = [];
  if (typeof schema.minimum === 'number') outOfRange.push(schema.minimum - 1, schema.minimum - 0.5);
  if (typeof schema.maximum === 'number') outOfRange.push(schema.maximum + 1, schema.maximum * 2);
  if (typeof schema.maxLength === 'number') outOfRange.push('m'.repeat(schema.maxLength + 1));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) outOfRange.push('');
  if (typeof schema.maxItems === 'number') outOfRange.push(Array.from({ length: schema.maxItems + 1 }, () => '*'));
  return outOfRange.length > 0 ? fc.oneof(fc.constantFrom(...outOfRange), anyJson) : anyJson;
}

type Path = string[];

function objectPaths(value: unknown, schema: JsonSchema, prefix: Path = []): { path: Path; schema: JsonSchema }[] {
  if (!isObject(value)) return [];
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  return Object.keys(value).flatMap((key) => {
    const fieldSchema = properties[key] ?? {};
    return [{ path: [...prefix, key], schema: fieldSchema }, ...objectPaths(value[key], fieldSchema, [...prefix, key])];
  });
}

function withChange(value: unknown, path: Path, change: (parent: Record<string, unknown>, key: string) => void) {
  const copy = structuredClone(value) as Record<string, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  change(parent, path[path.length - 1] ?? '');
  return copy;
}

/** A valid value with one thing wrong: a field's type or range, a field too many or too few. */
export function mutatedValue(schema: JsonSchema, hints: PropertyHints = () => undefined): fc.Arbitrary<unknown> {
  return validValue(schema, hints).chain((value) => {
    const paths = objectPaths(value, schema);
    const extraField = fc
      .tuple(fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', ''), hostileString), anyJson)
      .map(([key, extra]) => (isObject(value) ? { ...value, [key]: extra } : { [key]: extra }));
    const wholeValue = fc.oneof(anyJson, wrongValue(schema));
    if (paths.length === 0) return fc.oneof(extraField, wholeValue);
    const pick = fc.constantFrom(...paths);
    return fc.oneof(
      pick.chain(({ path, schema: fieldSchema }) =>
        wrongValue(fieldSchema).map((wrong) => withChange(value, path, (parent, key) => (parent[key] = wrong))),
      ),
      pick.map(({ path }) => withChange(value, path, (parent, key) => delete parent[key])),
      extraField,
      wholeValue,
    );
  });
}
