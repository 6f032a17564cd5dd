import { rm } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { describeEventLogConformance } from './event-log.conformance.js';
import { FileEventLog, type FileEventLogOptions } from './file-log.js';

for (const fsync of ['always', 'interval', 'never'] as const) {
  describe(`fsync ${fsync}`, () => {
    describeEventLogConformance(`file (${fsync})`, async () => {
      const dir = tempDir('foryou-log-');
      const options: FileEventLogOptions = { fsync, segmentBytes: 4096 };
      return {
        open: () => FileEventLog.open(dir, options),
        destroy: () => rm(dir, { recursive: true, force: true }),
      };
    });
  });
}

describe('file log write buffers', () => {
  it('reuses its chunk buffers across appends instead of taking a new megabyte for each', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { fsync: 'never' });
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      for (let k = 0; k < 50; k++)
        await log.append('events', [{ id: `e${k}`, payload: Buffer.from(`payload ${k}`) }]);
      const megabytes = alloc.mock.calls.filter(([size]) => size >= 1 << 20).length;
      expect(megabytes).toBeLessThanOrEqual(2);
      const records = await log.read('events', 0);
      expect(records.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, k) => `e${k}`));
      expect(records.map((r) => Buffer.from(r.payload).toString())).toEqual(
        Array.from({ length: 50 }, (_, k) => `payload ${k}`),
      );
    } finally {
      alloc.mockRestore();
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
