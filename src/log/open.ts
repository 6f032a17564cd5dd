import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { ForyouError } from '../core/errors.js';
import { FileEventLog } from './file-log.js';
import type { EventLog } from './port.js';

export interface OpenEventLogOptions {
  /** Open the embedded log without the writer lock, to read what another process writes. */
  readOnly?: boolean;
}

/** The folder of a `file://` log URL; relative paths (`file://.foryou/log`) are taken from the working folder. */
export function fileUrlPath(url: string): string {
  const rest = url.slice('file://'.length);
  if (rest.startsWith('/')) return fileURLToPath(url);
  return resolve(rest);
}

/** Opens the event log the configuration names, choosing the adapter by URL scheme. */
export async function openEventLog(config: Config['log'], options: OpenEventLogOptions = {}): Promise<EventLog> {
  if (config.url.startsWith('file://')) {
    return FileEventLog.open(fileUrlPath(config.url), {
      fsync: config.fsync,
      fsyncIntervalMs: config.fsyncIntervalMs,
      segmentBytes: config.segmentBytes,
      dedupWindow: config.dedupWindow,
      retentionBytes: config.retentionBytes > 0 ? config.retentionBytes : null,
      retentionMs: config.retentionHours > 0 ? config.retentionHours * 3_600_000 : null,
      readOnly: options.readOnly ?? false,
    });
  }
  if (config.url.startsWith('nats://')) {
    // Loaded on demand so the embedded default never loads the NATS client.
    const { NatsEventLog } = await import('./nats-log.js');
    return NatsEventLog.connect(config.url);
  }
  throw new ForyouError('FY_CONFIG_INVALID', `log.url ${config.url} must start with file:// or nats://`);
}
