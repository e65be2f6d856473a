import { nanos } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { EventStreamConfig } from '../config.ts';

// The downstream event stream: one JetStream stream (PAYMENTS) holding every outbox event on
// `<prefix>.<event type>`. Its settings are ours, written at every start, so a changed
// setting reaches the stream without anyone running the nats CLI.

/** JetStream's code for "stream name already in use" (with another configuration). */
const streamNameInUse = 10058;

export function eventSubject(config: EventStreamConfig, eventType: string): string {
  return `${config.eventStreamSubjectPrefix}.${eventType}`;
}

export function eventStreamSettings(config: EventStreamConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: config.eventStreamName,
    subjects: [`${config.eventStreamSubjectPrefix}.>`],
    storage: StorageType.File,
    // Limits retention: consumers come and go, messages stay until age or size ends them.
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(config.eventStreamMaxAgeMs),
    max_bytes: config.eventStreamMaxBytes,
    duplicate_window: nanos(config.eventStreamDuplicateWindowMs),
    num_replicas: 1,
  };
}

/**
 * Creates the stream, or brings an existing one to our settings. Safe to run from several
 * processes at once: adding a stream with identical settings is a no-op for JetStream.
 */
export async function ensureEventStream(jsm: JetStreamManager, config: EventStreamConfig): Promise<void> {
  const settings = eventStreamSettings(config);
  try {
    await jsm.streams.add(settings);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === streamNameInUse)) throw error;
    await jsm.streams.update(settings.name, settings);
  }
}
