import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { AppDependencies } from '../dependencies.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { verifyStripeSignature } from '../../providers/webhook-signatures.ts';
import { createRecordIntake } from '../../records/intake.ts';
import { withErrors } from '../schemas/common.ts';
import { PartnerPaymentRecordBody, PaymentRecordAnswer } from '../schemas/payment-records.ts';
import { assertStorable } from '../storable-text.ts';
import { incomingRecord } from './payment-records.ts';

// Partners (a bank, an agent network) announce payments on their channel, signed with the
// channel's secret: `Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
// the scheme of our own outbound webhooks. The payload names the merchant (`merchant_id`); a
// channel may record only for the merchants its settings list (RECORD_WEBHOOK_CHANNELS).
export async function recordWebhookRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  // Encapsulated to this plugin: the signature covers the exact bytes, so keep them.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const intake = createRecordIntake(deps);
  app.addHook('onClose', async () => intake.close());

  app.post(
    '/v1/webhooks/records/:channel',
    {
      schema: {
        tags: ['webhooks'],
        security: [],
        params: Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: withErrors({ 200: PaymentRecordAnswer, 201: PaymentRecordAnswer }),
      },
    },
    async (request, reply) => {
      const { channel } = request.params as { channel: string };
      const settings = Object.hasOwn(deps.config.recordChannels, channel)
        ? deps.config.recordChannels[channel]
        : undefined;
      if (!settings) throw new PaymentsError('resource_missing', `Unknown record channel: '${channel}'.`, 'channel');
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const header = request.headers.signature;
      const nowSeconds = Math.floor(Date.now() / 1000);
      const signed = settings.secrets.some((secret) =>
        verifyStripeSignature({
          header: Array.isArray(header) ? header[0] : header,
          rawBody,
          secret,
          nowSeconds,
          toleranceSeconds: deps.config.webhookToleranceSeconds,
        }),
      );
      if (!signed) throw new PaymentsError('webhook_signature_invalid', 'The webhook signature is missing or invalid.');
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody);
      } catch {
        throw new PaymentsError('invalid_json', 'The webhook body is not valid JSON.');
      }
      assertStorable(payload);
      const body = checkedBody(request, payload);
      if (body.channel !== undefined && body.channel !== channel) {
        throw new PaymentsError(
          'parameter_invalid',
          `channel must be '${channel}', the channel it is sent on.`,
          'channel',
        );
      }
      // Another channel's merchant reads as no merchant at all, as another merchant's id does elsewhere.
      if (!settings.merchants.includes(body.merchant_id)) {
        throw new PaymentsError('resource_missing', `No such merchant: '${body.merchant_id}'.`, 'merchant_id');
      }
      const { merchant_id: merchantId, ...record } = body;
      const answer = await intake.receive(incomingRecord(merchantId, { ...record, channel }), 'webhook');
      return reply.status(answer.status === 'created' ? 201 : 200).send(answer);
    },
  );
}

/**
 * The body against its schema with the API's own validator, after the signature (the raw body
 * is parsed here, not by Fastify); a failure is thrown as Fastify's validation error, so it
 * answers exactly as a body refused by any route (parameter_missing, parameter_unknown, …).
 */
function checkedBody(request: FastifyRequest, payload: unknown): PartnerPaymentRecordBody {
  const validate = request.compileValidationSchema(PartnerPaymentRecordBody, 'body');
  if (validate(payload)) return payload as PartnerPaymentRecordBody;
  throw Object.assign(new Error('body validation failed'), {
    statusCode: 400,
    validation: validate.errors,
    validationContext: 'body',
  });
}
