import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { fileUrlPath, natsUrlOptions } from './open.js';

describe('openEventLog URLs', () => {
  it('resolves relative and absolute file:// paths', () => {
    expect(fileUrlPath('file:///var/lib/foryou/log')).toBe('/var/lib/foryou/log');
    expect(fileUrlPath('file://.foryou/log')).toBe(`${process.cwd()}/.foryou/log`);
  });

  it('takes JetStream options from the nats:// URL and refuses unknown ones', () => {
    expect(natsUrlOptions('nats://127.0.0.1:4222?prefix=PROD&duplicateWindowMs=60000')).toEqual({
      server: 'nats://127.0.0.1:4222',
      options: { prefix: 'PROD', duplicateWindowMs: 60_000 },
    });
    expect(natsUrlOptions('nats://nats.internal:4222')).toEqual({
      server: 'nats://nats.internal:4222',
      options: {},
    });
    try {
      natsUrlOptions('nats://127.0.0.1:4222?dedup=1');
      expect.unreachable();
    } catch (error) {
      expect(isForyouError(error, 'FY_CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain('dedup=1 is not understood');
    }
  });
});
