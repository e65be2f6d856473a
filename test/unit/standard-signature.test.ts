import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { standardSigningKey, standardWebhookHeaderValues } from '../../src/webhooks/standard-signature.ts';

// The example of the Standard Webhooks specification (secret, id, timestamp, payload and the
// signature it gives), and the reference library on our headers.
const example = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  messageId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSeconds: 1614265330,
  body: '{"test": 2432232314}',
};

describe('Standard Webhooks signature', () => {
  it("gives the specification's example signature", () => {
    expect(standardWebhookHeaderValues({ ...example, secrets: [example.secret] })).toEqual({
      'webhook-id': example.messageId,
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('signs with every active secret, each verifiable alone by the reference library', () => {
    const old = 'whsec_0123456789abcdefghijklmnopqrstuv';
    const nowSeconds = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaderValues({
      ...example,
      timestampSeconds: nowSeconds,
      secrets: [example.secret, old],
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [example.secret, old]) {
      expect(new Webhook(secret).verify(example.body, headers)).toEqual({ test: 2432232314 });
    }
  });

  it('refuses secrets that are not whsec_ and base64 of 16 bytes or more, and no secret at all', () => {
    expect(() => standardSigningKey('sk_nope')).toThrow(/whsec_/);
    expect(() => standardSigningKey('whsec_c2hvcnQ=')).toThrow(/16 bytes/);
    expect(() => standardWebhookHeaderValues({ ...example, secrets: [] })).toThrow(/at least one secret/);
    expect(() => standardWebhookHeaderValues({ ...example, secrets: [example.secret], timestampSeconds: -1 })).toThrow(
      RangeError,
    );
  });
});
