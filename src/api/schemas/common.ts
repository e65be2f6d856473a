import { Type, type TSchema } from 'typebox';
import {
  maxDescriptionLength,
  maxMetadataKeyLength,
  maxMetadataKeys,
  maxMetadataValueLength,
} from '../../domain/metadata-limits.ts';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      type: Type.String(),
      code: Type.String(),
      message: Type.String(),
      param: Type.Optional(Type.String()),
    }),
  },
  { $id: 'ErrorResponse' },
);

/** Minor units; capped so every amount is an exact JSON integer. */
export const AmountMinor = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const SignedAmountMinor = Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217, upper case' });
export const IdParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
export const IdempotencyHeaders = Type.Object({
  // 200 keeps workflow ids ("deposit:<merchant>:<key>") within Temporal's 255-character visibility column.
  'idempotency-key': Type.String({ minLength: 1, maxLength: 200 }),
});

/** For POSTs where Idempotency-Key is optional (actions on an existing resource). */
export const OptionalIdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

/** Every route answers its errors in the same shape. */
export function withErrors<T extends Record<number, TSchema>>(responses: T) {
  return { ...responses, '4xx': ErrorResponse, '5xx': ErrorResponse };
}

// TypeBox drops a Record key's own limits (its keys become `patternProperties`), so they are
// stated as `propertyNames`, which Ajv checks; the key pattern takes any text, line breaks too,
// so no key escapes the value's schema.
const metadataRecord = (value: TSchema, description: string) =>
  Type.Unsafe<Record<string, string>>(
    Type.Record(Type.String({ pattern: '^[\\s\\S]*$' }), value, {
      propertyNames: { type: 'string', minLength: 1, maxLength: maxMetadataKeyLength },
      maxProperties: maxMetadataKeys,
      description,
    }),
  );

/** Metadata as created (src/domain/metadata-limits.ts). */
export const Metadata = metadataRecord(
  Type.String({ maxLength: maxMetadataValueLength }),
  `At most ${maxMetadataKeys} keys of up to ${maxMetadataKeyLength} characters, string values of up to ${maxMetadataValueLength}`,
);

/** Metadata in an update: merged into the current one; "" removes a key, null removes all. */
export const MetadataUpdate = Type.Union([
  metadataRecord(
    Type.String({ maxLength: maxMetadataValueLength }),
    'Merged into the current metadata; a key set to "" is removed',
  ),
  Type.Null(),
]);

/** A description in an update; null removes it. */
export const UpdatableDescription = Type.Union([
  Type.String({ minLength: 1, maxLength: maxDescriptionLength }),
  Type.Null(),
]);
