/** What the workflow records, kept in the reference row until it has. */
export interface RecordPayload {
  accountId: string;
  accountReference: string;
  customerReference: string | null;
  amount: string;
  currency: string;
  paidAt: string;
  channel: string | null;
  metadata: Record<string, string> | null;
}
