import { rm } from 'node:fs/promises';
import { describe } from 'vitest';
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
