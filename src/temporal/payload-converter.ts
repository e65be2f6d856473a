import {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  METADATA_ENCODING_KEY,
  UndefinedPayloadConverter,
  encodingKeys,
  encodingTypes,
  type Payload,
  type PayloadConverterWithEncoding,
} from '@temporalio/common';

// Money is bigint in every layer, and plain JSON cannot carry bigint. This converter writes a
// bigint as {"$bigint":"123"} inside ordinary json/plain payloads, so histories stay readable
// in the Web UI and amounts never pass through a float. Loaded by both the worker (and its
// workflow bundle) and every client through `payloadConverterPath`.

const tag = '$bigint';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { [tag]: value.toString() } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === tag && typeof record[tag] === 'string') return BigInt(record[tag]);
  }
  return value;
}

class BigIntJsonPayloadConverter implements PayloadConverterWithEncoding {
  readonly encodingType = encodingTypes.METADATA_ENCODING_JSON;

  toPayload(value: unknown): Payload | undefined {
    if (value === undefined) return undefined;
    return {
      metadata: { [METADATA_ENCODING_KEY]: encodingKeys.METADATA_ENCODING_JSON },
      data: encoder.encode(JSON.stringify(value, replacer)),
    };
  }

  fromPayload<T>(payload: Payload): T {
    if (payload.data === undefined || payload.data === null) throw new TypeError('payload without data');
    return JSON.parse(decoder.decode(payload.data), reviver) as T;
  }
}

export const payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new BigIntJsonPayloadConverter(),
);
