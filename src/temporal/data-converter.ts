import { fileURLToPath } from 'node:url';

/** Shared by the worker and every client so both sides read bigint amounts alike. */
export const dataConverter = {
  payloadConverterPath: fileURLToPath(new URL('./payload-converter.cjs', import.meta.url)),
};
