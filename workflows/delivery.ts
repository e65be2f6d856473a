/** Placeholder: delivers one outbound event to one endpoint, with retries over days. */
export async function deliveryWorkflow(): Promise<void> {}
