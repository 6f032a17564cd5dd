/**
 * The streams behind the topics: one JetStream stream per topic, created on first append or commit with file
 * storage and limits retention, and found again by name (`<PREFIX>_<TOPIC>`) and subject (`<prefix>.<topic>`).
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { ForyouError } from '../core/errors.js';
import { asUnavailable, isNotFound, nanos, streamName, subjectFor, topicOf } from './nats-support.js';

/** What a stream is created with; an existing stream keeps its own settings (change them with `nats stream edit`). */
export interface StreamLimits {
  duplicateWindowMs: number;
  maxMessages?: number | undefined;
  maxBytes?: number | undefined;
  maxAgeMs?: number | undefined;
}

export class NatsStreams {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly url: string,
    private readonly prefix: string,
    private readonly limits: StreamLimits,
  ) {}

  name(topic: string): string {
    return streamName(this.prefix, topic);
  }

  subject(topic: string): string {
    return subjectFor(this.prefix, topic);
  }

  /** The topic's stream, or null when it was never created. */
  async info(topic: string): Promise<StreamInfo | null> {
    const name = this.name(topic);
    try {
      return await this.jsm.streams.info(name);
    } catch (error) {
      if (isNotFound(error, 'stream')) return null;
      throw asUnavailable(this.url, `reading stream ${name}`, error, { stream: name });
    }
  }

  /** Creates the topic's stream unless this client already saw it. */
  ensure(topic: string): Promise<void> {
    let ready = this.ready.get(topic);
    if (!ready) {
      ready = this.create(topic);
      this.ready.set(topic, ready);
      ready.catch(() => this.ready.delete(topic));
    }
    return ready;
  }

  /** Makes the next `ensure` look at the server again (after a publish found no stream, for example). */
  forget(topic: string): void {
    this.ready.delete(topic);
  }

  /** Topics whose stream exists under this prefix. */
  async topics(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const info of this.jsm.streams.list()) {
        const topic = topicOf(this.prefix, info.config.name);
        if (topic && info.config.subjects?.includes(this.subject(topic))) out.push(topic);
      }
    } catch (error) {
      throw asUnavailable(this.url, 'listing streams', error);
    }
    return out.sort();
  }

  private config(topic: string): Partial<StreamConfig> & { name: string } {
    const { duplicateWindowMs, maxMessages, maxBytes, maxAgeMs } = this.limits;
    return {
      name: this.name(topic),
      subjects: [this.subject(topic)],
      description: `Foryou event log topic ${topic}`,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: 1,
      allow_direct: true,
      // JetStream requires the duplicate window to fit inside max_age.
      duplicate_window: nanos(
        maxAgeMs === undefined ? duplicateWindowMs : Math.min(duplicateWindowMs, maxAgeMs),
      ),
      max_msgs: maxMessages ?? -1,
      max_bytes: maxBytes ?? -1,
      max_age: nanos(maxAgeMs ?? 0),
    };
  }

  private async create(topic: string): Promise<void> {
    const name = this.name(topic);
    const subject = this.subject(topic);
    let info = await this.info(topic);
    if (!info) {
      try {
        info = await this.jsm.streams.add(this.config(topic));
      } catch (error) {
        // Another client may have created it first; use theirs if so.
        info = await this.info(topic);
        if (!info) throw asUnavailable(this.url, `creating stream ${name}`, error, { stream: name });
      }
    }
    if (!info.config.subjects?.includes(subject))
      throw new ForyouError(
        'FY_LOG_UNAVAILABLE',
        `stream ${name} at ${this.url} exists but does not capture subject ${subject} (it captures ${info.config.subjects?.join(', ') || 'nothing'})`,
        { details: { url: this.url, stream: name } },
      );
    if (!info.config.allow_direct) {
      try {
        await this.jsm.streams.update(name, { allow_direct: true });
      } catch (error) {
        throw asUnavailable(this.url, `enabling direct get on stream ${name}`, error, { stream: name });
      }
    }
  }
}
