import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeaderName, verifyWebhookSignature } from '../../src/webhooks/signature.ts';
import { DemoFailure, waitFor } from './http.ts';

// The merchant's side of outbound webhooks, as a merchant would write it: a plain node:http
// server on 127.0.0.1 that checks each delivery's signature on the raw body with the project's
// own verifyWebhookSignature before reading it, answers 2xx only to a valid one, and keeps the
// events (once each: delivery is at least once) for the demo to print.

/** Our events are small; a larger body is not ours and is refused unread. */
const maxBodyBytes = 1_000_000;

export interface ReceivedEvent {
  id: string;
  type: string;
  /** The id of the resource in data.object (pay_…, re_…, dep_…, tr_…). */
  objectId: string | undefined;
}

export interface WebhookReceiver {
  url: string;
  /** The endpoint's signing secret, known once the endpoint is created. */
  useSecret(secret: string): void;
  /** Valid events, once each, in the order they arrived. */
  readonly events: readonly ReceivedEvent[];
  /** Deliveries refused for their signature (none are expected). */
  readonly rejected: readonly string[];
  /** Waits until an event of each type (about `objectId`, when given) has arrived. */
  waitForTypes(types: readonly string[], objectId: string | undefined, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        request.destroy();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let secret: string | undefined;
  const events: ReceivedEvent[] = [];
  const seen = new Set<string>();
  const rejected: string[] = [];

  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (body === undefined || secret === undefined) {
        response.writeHead(body === undefined ? 413 : 503).end();
        return;
      }
      const check = verifyWebhookSignature({
        header: request.headers[signatureHeaderName.toLowerCase()],
        body,
        secret,
      });
      if (!check.valid) {
        rejected.push(check.reason);
        response.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body.toString('utf8')) as {
        id: string;
        type: string;
        data?: { object?: { id?: string } };
      };
      if (!seen.has(event.id)) {
        seen.add(event.id);
        events.push({ id: event.id, type: event.type, objectId: event.data?.object?.id });
      }
      response.writeHead(204).end();
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    useSecret: (value) => {
      secret = value;
    },
    events,
    rejected,
    async waitForTypes(types, objectId, timeoutMs) {
      const missing = () =>
        types.filter(
          (type) => !events.some((event) => event.type === type && (!objectId || event.objectId === objectId)),
        );
      await waitFor(
        `webhooks ${types.join(', ')}${objectId ? ` about ${objectId}` : ''}`,
        async () => {
          if (rejected.length > 0) throw new DemoFailure(`a webhook failed its signature check: ${rejected[0]}`);
          return missing().length === 0 ? true : undefined;
        },
        { timeoutMs },
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
