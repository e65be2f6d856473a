// `npm run build:workflows`: prebuilds the workflow bundle into .build/ unless one for the
// current sources is there already. Run at image build time (Dockerfile) so production workers
// never bundle at start; `npm start`, the worker and the tests build it themselves when missing.

import { performance } from 'node:perf_hooks';
import { ensureWorkflowBundle } from '../src/temporal/workflow-bundle.ts';

const startedAt = performance.now();
const bundle = await ensureWorkflowBundle((line) => process.stderr.write(`[build:workflows] ${line}\n`));
if (!('codePath' in bundle)) throw new Error('the workflow bundle was built but could not be saved');
const elapsedSeconds = ((performance.now() - startedAt) / 1000).toFixed(1);
process.stderr.write(`[build:workflows] ${bundle.codePath} (${elapsedSeconds} s)\n`);
