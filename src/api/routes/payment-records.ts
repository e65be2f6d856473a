import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import { idempotencySettings, idempotent } from '../idempotency.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { IdParams, IdempotencyHeaders, withErrors } from '../schemas/common.ts';
import { CreatePaymentRecordBody, PaymentRecord, PaymentRecordAnswer } from '../schemas/payment-records.ts';
import { createRecordIntake, type IncomingRecord } from '../../records/intake.ts';
import { presentRecordedPayment } from '../../records/public-record.ts';
import { openRecordSecrets } from '../../records/record-secrets.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';

/** The body of either recording route as the intake takes it. */
export function incomingRecord(merchantId: string, body: CreatePaymentRecordBody): IncomingRecord {
  return {
    merchantId,
    referenceNumber: body.reference_number,
    accountReference: body.account_reference,
    customerReference: body.customer_reference,
    amount: BigInt(body.amount),
    currency: body.currency,
    paidAt: body.paid_at,
    channel: body.channel,
    metadata: body.metadata,
  };
}

// Payments recorded by the merchant itself (a bank transfer it saw arrive): claimed by
// reference at once, recorded by their workflow right after (src/records/intake.ts).
export async function paymentRecordRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const intake = createRecordIntake(deps);
  app.addHook('onClose', async () => intake.close());

  app.post(
    '/v1/payment_records',
    {
      schema: {
        tags: ['payment_records'],
        headers: IdempotencyHeaders,
        body: CreatePaymentRecordBody,
        response: withErrors({ 200: PaymentRecordAnswer, 201: PaymentRecordAnswer }),
      },
    },
    async (request, reply) => {
      const { merchantId } = request;
      return idempotent(deps.prisma, idempotencySettings(deps.config), request, reply, merchantId, async () => {
        const answer = await intake.receive(incomingRecord(merchantId, request.body), 'webhook');
        return { status: answer.status === 'created' ? 201 : 200, body: answer };
      });
    },
  );

  app.get(
    '/v1/payment_records/:id',
    { schema: { tags: ['payment_records'], params: IdParams, response: withErrors({ 200: PaymentRecord }) } },
    async (request) => {
      const record = await deps.prisma.recordedPayment.findFirst({
        where: { id: request.params.id, merchantId: request.merchantId },
      });
      if (!record) throw new PaymentsError('resource_missing', `No such payment record: '${request.params.id}'.`, 'id');
      return presentRecordedPayment(openRecordSecrets(cipherFor(requireKeyring(deps.config)), record));
    },
  );
}
