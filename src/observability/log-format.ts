// LOG_FORMAT: `json` (one JSON object a line, for production and log shippers) or `pretty`
// (one readable line, for a terminal). `npm start` defaults to pretty; every other entry point
// to json. Anything else is a configuration mistake and stops the process.

export type LogFormat = 'json' | 'pretty';

export function logFormatFromEnv(value: string | undefined, fallback: LogFormat): LogFormat {
  if (value === undefined || value === '') return fallback;
  if (value === 'json' || value === 'pretty') return value;
  throw new Error(`LOG_FORMAT must be json or pretty, not '${value}'.`);
}
