import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { createWebhookInbox } from '../../webhooks/inbox.ts';
import { PaymentsError } from '../../domain/errors.ts';
import type { ProviderName } from '../../providers/provider.ts';
import { envelopeOf } from '../../webhooks/inbound-events.ts';
import { verifyInboundSignature } from '../../webhooks/inbound-signature.ts';
import { withErrors } from '../schemas/common.ts';
import { assertStorable } from '../storable-text.ts';
import { webhookIntake } from '../../observability/metrics.ts';

const Received = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });

// Provider webhooks: verify the signature on the raw bytes, record the event in the inbox (its
// unique key is the dedupe), answer. No business work happens in the request: the webhook
// workflow, started right after (src/webhooks/inbox.ts), does it.
export async function inboundWebhookRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  // Encapsulated to this plugin: the signature covers the exact bytes, so keep them.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const inbox = createWebhookInbox({ prisma: deps.prisma, temporal: deps.temporal, config: deps.config });
  app.addHook('onClose', async () => inbox.close());

  const secrets: Record<ProviderName, string[]> = {
    stripe: deps.config.webhookSecretsStripe,
    paypal: deps.config.webhookSecretsPaypal,
  };

  app.post(
    '/v1/webhooks/:provider',
    {
      schema: {
        tags: ['webhooks'],
        security: [],
        params: Type.Object({ provider: Type.String({ maxLength: 32 }) }),
        response: withErrors({ 200: Received }),
      },
    },
    async (request) => {
      const { provider } = request.params as { provider: string };
      const known = provider === 'stripe' || provider === 'paypal' ? provider : 'unknown';
      try {
        const { duplicate } = await receive(provider, request.headers, request.body);
        webhookIntake.inc({ provider: known, outcome: duplicate ? 'duplicate' : 'accepted', reason: 'none' });
        return { received: true as const, duplicate };
      } catch (error) {
        const reason = error instanceof PaymentsError ? error.code : 'internal_error';
        webhookIntake.inc({ provider: known, outcome: 'rejected', reason });
        throw error;
      }
    },
  );

  /** Verifies and records one webhook; throws the error code that rejects it. */
  async function receive(
    provider: string,
    headers: FastifyRequest['headers'],
    body: unknown,
  ): Promise<{ duplicate: boolean }> {
    if (provider !== 'stripe' && provider !== 'paypal') {
      throw new PaymentsError('resource_missing', `Unknown webhook provider: '${provider}'.`, 'provider');
    }
    const rawBody = typeof body === 'string' ? body : '';
    const signed = verifyInboundSignature({
      provider,
      headers,
      rawBody,
      secrets: secrets[provider],
      toleranceSeconds: deps.config.webhookToleranceSeconds,
      nowMs: Date.now(),
    });
    if (!signed) throw new PaymentsError('webhook_signature_invalid', 'The webhook signature is missing or invalid.');
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody);
    } catch {
      throw new PaymentsError('invalid_json', 'The webhook body is not valid JSON.');
    }
    assertStorable(payload);
    const envelope = envelopeOf(provider, payload);
    if (!envelope) throw new PaymentsError('parameter_invalid', 'The webhook has no event id or type.');
    const fresh = await inbox.receive({ provider, eventId: envelope.eventId, type: envelope.type, payload });
    return { duplicate: !fresh };
  }
}
