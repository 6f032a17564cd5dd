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

/**
 * Splits `nats://host:port?prefix=FORYOU&duplicateWindowMs=3600000` into the server address and adapter
 * options, so everything about the JetStream log is configured by its one URL.
 */
export function natsUrlOptions(url: string): {
  server: string;
  options: { prefix?: string; duplicateWindowMs?: number };
} {
  const parsed = new URL(url);
  const options: { prefix?: string; duplicateWindowMs?: number } = {};
  for (const [key, value] of parsed.searchParams) {
    if (key === 'prefix') options.prefix = value;
    else if (key === 'duplicateWindowMs' && /^\d+$/.test(value)) options.duplicateWindowMs = Number(value);
    else
      throw new ForyouError(
        'FY_CONFIG_INVALID',
        `log.url parameter ${key}=${value} is not understood; use prefix=NAME or duplicateWindowMs=MILLISECONDS`,
      );
  }
  return { server: `nats://${parsed.host}`, options };
}

/** Opens the event log the configuration names, choosing the adapter by URL scheme. */
export async function openEventLog(
  config: Config['log'],
  options: OpenEventLogOptions = {},
): Promise<EventLog> {
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
    const { server, options } = natsUrlOptions(config.url);
    return NatsEventLog.connect(server, {
      ...options,
      ...(config.retentionBytes > 0 ? { maxBytes: config.retentionBytes } : {}),
      ...(config.retentionHours > 0 ? { maxAgeMs: config.retentionHours * 3_600_000 } : {}),
    });
  }
  throw new ForyouError('FY_CONFIG_INVALID', `log.url ${config.url} must start with file:// or nats://`);
}
