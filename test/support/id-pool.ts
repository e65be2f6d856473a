import fc from 'fast-check';

/**
 * Resource ids one merchant can see, by object type (`payment`, `account`…), learned from the
 * answers it gets, so a fuzzer keeps aiming at resources that exist, new ones included.
 */
export class IdPool {
  private readonly byType = new Map<string, Set<string>>();

  /** Every `{ id, object }` in an answer, at any depth; other `…_id` fields as type `other`. */
  learn(value: unknown, parentKey = ''): void {
    if (Array.isArray(value)) {
      value.forEach((item) => this.learn(item, parentKey));
      return;
    }
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    for (const [key, field] of Object.entries(record)) {
      if (typeof field === 'string' && (key === 'id' || key.endsWith('_id'))) {
        const type = key === 'id' && typeof record.object === 'string' ? record.object : key.replace(/_id$/, '');
        this.add(type, field);
      } else {
        this.learn(field, key);
      }
    }
  }

  private add(type: string, id: string): void {
    const ids = this.byType.get(type) ?? new Set<string>();
    ids.add(id);
    this.byType.set(type, ids);
  }

  private all(): string[] {
    return [...this.byType.values()].flatMap((ids) => [...ids]);
  }

  /** One id, of the type when the pool has some (read when generated: the pool grows). */
  id(type?: string): fc.Arbitrary<string> {
    return fc.nat().map((n) => {
      const ofType = type ? [...(this.byType.get(type) ?? [])] : [];
      const ids = ofType.length > 0 ? ofType : this.all();
      return ids[n % ids.length] ?? 'none';
    });
  }
}
