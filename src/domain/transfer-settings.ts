// A transfer's timing, fixed when it starts (from the API's configuration) and carried in the
// workflow input. Pure: shared by the API, the transfer workflow and its activities.

/** What transfers started before these settings existed use (their inputs carry none). */
export const defaultTransferSettings: TransferSettings = {
  holdExpiryMs: 60 * 60 * 1000,
  captureTimeoutMs: 5 * 60 * 1000,
};

export interface TransferSettings {
  /**
   * The transfer's hold expires this long after it is placed: the hold sweep then releases it
   * if the workflow has not (a lost workflow, a compensation that never finished), and a capture
   * after it fails with hold_unexpected_state. Longer than captureTimeoutMs.
   */
  holdExpiryMs: number;
  /** How long the capture is retried before the transfer fails and its hold is released. */
  captureTimeoutMs: number;
}
