import { timeOrderedToken } from '../ids.ts';

/** `rec_…`, the same form as the ids the database makes for imported records (new_id). */
export function newRecordId(): string {
  return `rec_${timeOrderedToken()}`;
}

export function newImportRunId(): string {
  return `imp_${timeOrderedToken()}`;
}
