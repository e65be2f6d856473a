// Metadata is the merchant's own key-value pairs on a payment or account, with Stripe's limits
// so clients written for Stripe fit: at most 50 keys, keys up to 40 characters, values
// strings up to 500. An update merges into what is there, as Stripe's does: a key set to ""
// is removed, `metadata: null` removes them all.

export const maxMetadataKeys = 50;
export const maxMetadataKeyLength = 40;
export const maxMetadataValueLength = 500;
/** A payment's or account's description, in characters. */
export const maxDescriptionLength = 1_000;

export type Metadata = Record<string, string>;

export type MetadataMerge = { ok: true; metadata: Metadata | null } | { ok: false; message: string };

/** The metadata after an update; null when no key is left. */
export function mergeMetadata(current: Metadata | null, update: Metadata | null): MetadataMerge {
  if (update === null) return { ok: true, metadata: null };
  const merged: Metadata = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  const keys = Object.keys(merged).length;
  if (keys > maxMetadataKeys) {
    return { ok: false, message: `Metadata can have at most ${maxMetadataKeys} keys; this update leaves ${keys}.` };
  }
  return { ok: true, metadata: keys === 0 ? null : merged };
}
