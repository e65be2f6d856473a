import { randomToken } from '../ids.ts';

/** `rec_…`, the same form as the ids the database makes for imported records (new_id). */
export function newRecordId(): string {
  return `rec_${randomToken(22)}`;
}

export function newImportRunId(): string {
  return `imp_${randomToken(22)}`;
}
