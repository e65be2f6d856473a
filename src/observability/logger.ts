import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { logFormatFromEnv, type LogFormat } from './log-format.ts';

// The one logger factory of every process: pino, labelled with the process (`proc`), JSON or
// pretty (LOG_FORMAT), at LOG_LEVEL. Secrets never reach a line: the fields below are redacted
// wherever they appear, on top of the rule that code logs ids, never payloads.

export type ProcessName = 'api' | 'worker' | 'provider-sim';

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Where lines go; stdout by default. Tests pass a stream that keeps them. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

/** Any field of these names, at the top or one level down, is replaced by "[redacted]". */
const secretFields = ['authorization', 'apiKey', 'api_key', 'secret', 'webhookSecret', 'token', 'cardNumber'];
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'req.headers["paypal-transmission-sig"]',
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
];

/** The codec access token the Web UI sends in its URL (/codec/<token>/decode, src/api/routes/codec.ts). */
export function maskedUrl(url: string): string {
  return url.replace(/^\/codec\/[^/?]+\/(decode|encode)\b/, '/codec/[redacted]/$1');
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/** Fastify's own request serializer, with maskedUrl: a secret in a URL never reaches a line. */
function requestFields(request: LoggedRequest) {
  return {
    method: request.method,
    url: maskedUrl(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * pino-pretty as a stream in this thread (no transport worker): `12:00:01.234 INFO [api] msg`
 * with the other fields below, an error's stack included.
 */
function prettyStream(destination: DestinationStream | NodeJS.WritableStream | undefined): DestinationStream {
  return pretty({
    colorize: destination === undefined && process.stdout.isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    // What a terminal reader never needs; the JSON format keeps every field.
    ignore: 'pid,hostname,proc,namespace,taskQueue,isLocal,activityId,component',
    messageFormat: '[{proc}] {msg}',
    singleLine: true,
    sync: true,
    ...(destination ? { destination } : {}),
  });
}

export function createLogger(proc: ProcessName, options: LoggerOptions = {}): Logger {
  const format = options.format ?? logFormatFromEnv(process.env.LOG_FORMAT, 'json');
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { proc },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: { req: requestFields },
  };
  if (format === 'pretty') return pino(settings, prettyStream(options.destination));
  return options.destination ? pino(settings, options.destination as DestinationStream) : pino(settings);
}
