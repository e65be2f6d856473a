import { loadConfig } from '../config.ts';
import { resolveDatabase } from './database.ts';
import { applyMigrations, createMigration } from './migrate.ts';

// npm run db:migrate                      apply pending migrations (DATABASE_URL, or the same
//                                         embedded PostgreSQL as `npm start`)
// npm run db:migration:create -- <name>   write a migration from prisma/schema.prisma changes

const [command, name] = process.argv.slice(2);
if (command !== 'deploy' && !(command === 'create' && name)) {
  console.error('usage: db deploy | db create <name>');
  process.exit(2);
}
const config = loadConfig();
const database = await resolveDatabase(config.databaseUrl, {
  folder: 'postgres',
  port: Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54320),
  database: 'payments',
});
try {
  if (command === 'deploy') {
    const applied = await applyMigrations(database.url);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
  } else {
    const folder = await createMigration(database.url, name as string);
    console.log(
      folder
        ? `created ${folder}; append hand-written SQL there if needed, then run npm run db:migrate`
        : 'schema unchanged: no migration created',
    );
  }
} finally {
  await database.embedded?.stop();
}
