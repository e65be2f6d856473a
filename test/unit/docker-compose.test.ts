import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

// docker-compose.yml against the Compose Specification's own JSON schema, with no Docker engine:
// test/fixtures/compose-spec/compose-spec.json is schema/compose-spec.json of
// compose-spec/compose-spec (Apache-2.0), as of its commit a08f8d51 (2025-10-28). The YAML is
// read with merge keys on (`<<: *app`), as Compose reads it; `${…}` interpolation is not done,
// which the schema allows: every interpolated value here stands where a string is expected.

const root = path.resolve(import.meta.dirname, '..', '..');
const { $schema: draft, ...schema } = JSON.parse(
  readFileSync(path.join(root, 'test/fixtures/compose-spec/compose-spec.json'), 'utf8'),
) as Record<string, unknown>;
// Draft 07, Ajv's own default, named by an https address Ajv does not map to it: the
// reference is dropped rather than fetched. The schema also uses `deprecated` and other
// annotations Ajv's strict mode does not know.
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

interface Service {
  build?: { context: string; target: string };
  command?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
}
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('is checked against a draft-07 schema', () => {
    expect(draft).toBe('https://json-schema.org/draft-07/schema');
  });

  it('is valid against the Compose Specification schema', () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('the schema refuses what Compose would refuse (a misspelled key, an unknown condition)', () => {
    const misspelled = parse(composeText.replace("command: ['node', 'src/worker.js']", "comand: ['node']"), {
      merge: true,
    });
    expect(validate(misspelled)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/services/worker', params: { additionalProperty: 'comand' } }),
    );
    const badCondition = parse(composeText.replace('condition: service_healthy', 'condition: healthy'), {
      merge: true,
    });
    expect(validate(badCondition)).toBe(false);
  });

  it('runs every app service from the image as node on a compiled entry point of the build', () => {
    const appServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    expect(appServices.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'provider-sim', 'worker']);
    for (const [name, service] of appServices) {
      expect(service.build, name).toEqual({ context: '.', target: 'runtime' });
      const [command, entry] = service.command ?? [];
      expect(command, name).toBe('node');
      // npm run build compiles src/x.ts to src/x.js in the image's /app.
      expect(existsSync(path.join(root, (entry as string).replace(/\.js$/, '.ts'))), `${name}: ${entry}`).toBe(true);
      expect(service.healthcheck, name).toBeDefined();
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

  it('runs, by default, a compiled entry point of the build with node', () => {
    const cmd = /^CMD \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
    expect(cmd).toBe('src/server.js');
    expect(existsSync(path.join(root, 'src/server.ts'))).toBe(true);
  });

  it('has the stage docker-compose.yml targets', () => {
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
  });
});
