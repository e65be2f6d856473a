import { loadConfig } from '../config.ts';
import { dataDir, resolveDatabase } from '../db/database.ts';
import { createPrisma } from '../db/prisma.ts';
import { cipherFor } from './column-cipher.ts';
import { ensureDevSecret } from './dev-secrets.ts';
import { Keyring } from './keyring.ts';
import { defaultRotationBatchSize, rotateColumns } from './rotate-columns.ts';

// npm run keys:rotate   (tsx src/crypto/rotate-cli.ts)
// Re-encrypts every encrypted column with the first key of ENCRYPTION_KEYS, and encrypts rows
// written before encryption. Run it after putting a new key first (README "Encryption"); once
// it reports nothing left, the older keys can go. Same database as `npm run db:migrate`
// (DATABASE_URL, or npm start's embedded PostgreSQL with its key from .data/).

const config = loadConfig();
const database = await resolveDatabase(config.databaseUrl, {
  folder: 'postgres',
  port: Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54320),
  database: 'payments',
});
const prisma = createPrisma(database.url, 2);
try {
  let keyring = config.keyring;
  // npm start's own database: its generated key, never a new one (that would strand its data).
  if (!keyring && database.embedded) {
    keyring = Keyring.parse(await ensureDevSecret(dataDir, 'encryption-keys', () => Keyring.generateEntry('dev1')));
  }
  if (!keyring) throw new Error('ENCRYPTION_KEYS is unset: nothing to rotate to');
  const changed = await rotateColumns(prisma, cipherFor(keyring), { batchSizeRows: defaultRotationBatchSize });
  console.log(
    `key ${keyring.currentKeyId}: re-encrypted ${changed.payments} payments, ${changed.webhookEndpoints} webhook ` +
      `endpoints, ${changed.idempotencyKeys} stored idempotent answers, ${changed.accounts} accounts, ` +
      `${changed.recordedPayments} recorded payments, ${changed.paymentReferences} waiting records, ` +
      `${changed.transfers} transfers, ${changed.payouts} payouts and ${changed.events} events`,
  );
} finally {
  await prisma.$disconnect();
  await database.embedded?.stop();
}
