// When holds expire. Pure: shared by the activities that place holds and the workflows.

const dayMs = 24 * 60 * 60 * 1000;

/**
 * How long a ledger posting that follows an irreversible step (a provider capture, a taken
 * hold) keeps being retried: forwardRecoveryActivity's schedule-to-close window.
 */
export const forwardRecoveryWindowMs = 7 * dayMs;

/**
 * A wallet payment's hold outlives every capture its payment can still make: a manual capture
 * is accepted until the authorization expires (AUTHORIZATION_EXPIRY_MS after the hold, at the
 * latest), and its posting is then retried for the forward-recovery window. Only a hold its
 * payment workflow lost track of is ever released by the sweep.
 */
export function walletHoldExpiryMs(authorizationExpiryMs: number): number {
  return authorizationExpiryMs + forwardRecoveryWindowMs;
}

/** Expired holds one maintenance run releases at most (MAX_HOLDS_EXPIRED_PER_RUN). */
export const defaultMaxHoldsExpiredPerRun = 500;
