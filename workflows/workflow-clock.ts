// Workflow time. Inside a workflow the SDK makes Date deterministic: it reads the time of the
// current workflow task from history, so replays see the same instant.

export function workflowNowMs(): number {
  // eslint-disable-next-line no-restricted-properties -- deterministic here, see above
  return Date.now();
}

export function workflowNowIso(): string {
  return new Date(workflowNowMs()).toISOString();
}
