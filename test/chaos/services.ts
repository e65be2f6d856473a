import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type PostgresServer } from '../../src/db/embedded-postgres.ts';
import { createDatabase, dataDir } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { ensureTemporal, freePort, type TemporalServer } from '../../src/temporal/dev-server.ts';

// A scenario's own PostgreSQL and Temporal, which it may break: unlike the integration run's
// (test/support/global-setup.ts), nothing else uses them. PostgreSQL keeps its data folder and
// port across a restart; Temporal is a dev server on a SQLite file (persistent mode) on fixed
// ports, so a restart keeps every workflow, timer and task queue and clients find it again.

const databaseName = 'chaos';

export interface ChaosServices {
  databaseUrl: string;
  temporalAddress: string;
  /** Ends every client connection to the scenario's database (pg_terminate_backend); how many. */
  terminateConnections(): Promise<number>;
  /** Stops PostgreSQL (fast shutdown), keeps it down for `downMs`, starts it again. */
  restartPostgres(downMs: number): Promise<void>;
  /** Stops the Temporal dev server, keeps it down for `downMs`, starts it again on its file. */
  restartTemporal(downMs: number): Promise<void>;
  close(): Promise<void>;
}

const log = (line: string): void => {
  process.stderr.write(`[chaos services] ${line}\n`);
};

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startChaosServices(scenario: string): Promise<ChaosServices> {
  const dir = path.join(dataDir, 'chaos', `${scenario}_${Date.now()}_${process.pid}`);
  await mkdir(dir, { recursive: true });
  const temporalOptions = {
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: path.join(dir, 'temporal.sqlite'),
    logFile: path.join(dir, 'temporal.log'),
    log,
  };
  const [postgres, firstTemporal] = await Promise.all([
    startEmbeddedPostgres(path.join(dir, 'postgres'), await freePort(), log),
    ensureTemporal(undefined, temporalOptions),
  ]);
  let temporal: TemporalServer | undefined = firstTemporal;
  await createDatabase(postgres.adminUrl, databaseName);
  const databaseUrl = postgres.urlFor(databaseName);
  await applyMigrations(databaseUrl);

  return {
    databaseUrl,
    temporalAddress: firstTemporal.address,
    terminateConnections: () => terminateConnections(postgres),
    async restartPostgres(downMs) {
      await postgres.stop();
      await pause(downMs);
      await postgres.start();
    },
    async restartTemporal(downMs) {
      await temporal?.stop();
      temporal = undefined;
      await pause(downMs);
      temporal = await ensureTemporal(undefined, temporalOptions);
    },
    async close() {
      await temporal?.stop();
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function terminateConnections(postgres: PostgresServer): Promise<number> {
  const operator = new pg.Client({ connectionString: postgres.adminUrl });
  await operator.connect();
  try {
    const { rows } = await operator.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [databaseName],
    );
    return rows.filter((row) => row.terminated).length;
  } finally {
    await operator.end();
  }
}
