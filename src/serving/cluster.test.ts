import { describe, expect, it } from 'vitest';
import { WORKER_OLD_SPACE_MB, workerEnvironment, workerExecArgv } from './cluster.js';

describe('workerEnvironment', () => {
  it('asks glibc for huge pages in a forked worker, keeping the rest of the environment', () => {
    const env = workerEnvironment({ PATH: '/usr/bin', FORYOU_DATA_DIR: '/data' });
    expect(env).toEqual({
      PATH: '/usr/bin',
      FORYOU_DATA_DIR: '/data',
      GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
    });
  });

  it("adds the tunable to the operator's other tunables", () => {
    expect(workerEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1',
    );
  });

  it("keeps the operator's own huge-page setting, 0 included", () => {
    for (const tunables of ['glibc.malloc.hugetlb=0', 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2'])
      expect(workerEnvironment({ GLIBC_TUNABLES: tunables }).GLIBC_TUNABLES).toBe(tunables);
  });

  it('does not change the environment it is given', () => {
    const given = { PATH: '/usr/bin' };
    workerEnvironment(given);
    expect(given).toEqual({ PATH: '/usr/bin' });
  });
});

describe('workerExecArgv', () => {
  it('starts a worker with room in its old generation, unless the operator sized it', () => {
    expect(workerExecArgv(['--enable-source-maps'])).toEqual([
      '--enable-source-maps',
      `--initial-old-space-size=${WORKER_OLD_SPACE_MB}`,
    ]);
    expect(workerExecArgv(['--initial-old-space-size=64'])).toEqual(['--initial-old-space-size=64']);
    expect(workerExecArgv(['--initial-old-space-size', '64'])).toEqual(['--initial-old-space-size', '64']);
  });
});
