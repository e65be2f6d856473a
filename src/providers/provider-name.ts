/** The card processors the router can send a payment to. */
export type ProviderName = 'stripe' | 'paypal';
