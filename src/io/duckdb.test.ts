import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { openMemoryDuckDb } from './duckdb.js';

describe('openMemoryDuckDb', () => {
  it('spills into a directory of its own and removes it on close', async () => {
    const a = await openMemoryDuckDb({ memoryLimit: '64MB', threads: 1 });
    const b = await openMemoryDuckDb({ memoryLimit: '64MB', threads: 1 });
    try {
      expect(a.tempDirectory.startsWith(tmpdir())).toBe(true);
      expect(a.tempDirectory).not.toBe(b.tempDirectory);
      const setting = await a.connection.runAndReadAll(`SELECT current_setting('temp_directory')`);
      expect(setting.getRows()[0]![0]).toBe(a.tempDirectory);
      // A sort larger than the memory limit has to spill: its files land in a's directory, not in b's
      // and not in the working directory's .tmp (DuckDB's default, shared by every process there).
      await a.connection.run(
        'CREATE TABLE t AS SELECT range AS k, md5(range::VARCHAR) AS v FROM range(3000000) ORDER BY v',
      );
      expect(readdirSync(a.tempDirectory).some((f) => f.startsWith('duckdb_temp_storage'))).toBe(true);
      expect(readdirSync(b.tempDirectory)).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
    expect(existsSync(a.tempDirectory)).toBe(false);
    expect(existsSync(b.tempDirectory)).toBe(false);
  }, 60_000);
});
