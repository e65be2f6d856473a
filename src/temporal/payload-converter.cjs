// Money is bigint in every layer, and plain JSON cannot carry bigint. This converter writes a
// bigint as {"$bigint":"123"} inside ordinary json/plain payloads, so histories stay readable
// in the Web UI and amounts never pass through a float. Loaded through `payloadConverterPath`
// by the worker, its workflow bundle and every client. CommonJS on purpose: the SDK loads it
// with require(), which must work under tsx, vitest and the workflow bundler alike.
'use strict';

const {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  METADATA_ENCODING_KEY,
  UndefinedPayloadConverter,
  encodingKeys,
  encodingTypes,
} = require('@temporalio/common');

const tag = '$bigint';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function replacer(_key, value) {
  return typeof value === 'bigint' ? { [tag]: value.toString() } : value;
}

function reviver(_key, value) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === tag && typeof value[tag] === 'string') return BigInt(value[tag]);
  }
  return value;
}

class BigIntJsonPayloadConverter {
  constructor() {
    this.encodingType = encodingTypes.METADATA_ENCODING_JSON;
  }

  toPayload(value) {
    if (value === undefined) return undefined;
    return {
      metadata: { [METADATA_ENCODING_KEY]: encodingKeys.METADATA_ENCODING_JSON },
      data: encoder.encode(JSON.stringify(value, replacer)),
    };
  }

  fromPayload(payload) {
    if (payload.data === undefined || payload.data === null) throw new TypeError('payload without data');
    return JSON.parse(decoder.decode(payload.data), reviver);
  }
}

exports.payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new BigIntJsonPayloadConverter(),
);
