import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { AppDependencies } from '../app.ts';
import type { webhookWorkflow } from '../../../workflows/webhook.ts';
import { PaymentsError } from '../../domain/errors.ts';
import type { ProviderName } from '../../providers/provider.ts';
import { envelopeOf } from '../../webhooks/inbound-events.ts';
import { verifyInboundSignature } from '../../webhooks/inbound-signature.ts';
import { withErrors } from '../schemas/common.ts';

const Received = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });

// Provider webhooks: verify the signature on the raw bytes, start one workflow per provider
// event id (Temporal refuses a second start with the same id: that is the dedupe), answer.
// No business work happens in the request; the webhook workflow does it.
export async function inboundWebhookRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  // Encapsulated to this plugin: the signature covers the exact bytes, so keep them.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

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
      if (provider !== 'stripe' && provider !== 'paypal') {
        throw new PaymentsError('resource_missing', `Unknown webhook provider: '${provider}'.`, 'provider');
      }
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const signed = verifyInboundSignature({
        provider,
        headers: request.headers,
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
      const envelope = envelopeOf(provider, payload);
      if (!envelope) throw new PaymentsError('parameter_invalid', 'The webhook has no event id or type.');
      try {
        await deps.temporal.workflow.start<typeof webhookWorkflow>('webhookWorkflow', {
          workflowId: `webhook:${provider}:${envelope.eventId}`,
          taskQueue: deps.config.taskQueue,
          args: [
            {
              provider,
              payload,
              receivedAt: new Date().toISOString(),
              retryMs: deps.config.unmatchedRetryMs,
              giveUpMs: deps.config.unmatchedGiveUpMs,
            },
          ],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowIdConflictPolicy: 'FAIL',
        });
        return { received: true as const, duplicate: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { received: true as const, duplicate: true };
        throw error;
      }
    },
  );
}
