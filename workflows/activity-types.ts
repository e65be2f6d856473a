import type { createActivities } from '../activities/index.ts';

// Every activity the worker registers, by name; workflows proxy only the ones they call (Pick<>).
export type Activities = ReturnType<typeof createActivities>;
