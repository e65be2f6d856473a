/**
 * A Map that forgets its oldest entries beyond `maxEntries`, so the simulator's memory stays
 * bounded however long it runs. Insertion order is age; updating an entry does not renew it.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly maxEntries: number) {
    super();
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new Error(`maxEntries must be ≥ 1, got ${maxEntries}`);
  }

  override set(key: K, value: V): this {
    super.set(key, value);
    while (this.size > this.maxEntries) {
      const oldest = this.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    return this;
  }
}
