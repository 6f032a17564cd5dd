import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { ArtifactRegistry } from './artifact-registry.js';

const meta = {
  kind: 'model' as const,
  config: { lambda: 300 },
  metrics: { 'ndcg@10': 0.4 },
  inputs: { lakeSequence: 3 },
};

describe('ArtifactRegistry', () => {
  it('publishes immutable numbered versions with metadata and payload', async () => {
    const registry = new ArtifactRegistry(tempDir());
    const v1 = await registry.publish('ease', meta, async (dir) =>
      writeFileSync(join(dir, 'weights.bin'), 'x'),
    );
    expect(v1).toMatchObject({ name: 'ease', version: 1, parent: null, files: ['weights.bin'] });
    await registry.promote('ease', 1);
    const v2 = await registry.publish('ease', { ...meta, metrics: { 'ndcg@10': 0.41 } }, async () => {});
    expect(v2).toMatchObject({ version: 2, parent: 1 });
    expect(await registry.versions('ease')).toEqual([1, 2]);
    expect(readFileSync(join(registry.pathOf('ease', 1), 'weights.bin'), 'utf8')).toBe('x');
    expect((await registry.show('ease', 2)).metrics).toEqual({ 'ndcg@10': 0.41 });
    expect((await registry.show('ease')).version).toBe(1); // the promoted one
  });

  it('promotes and rolls back, and refuses unknown versions', async () => {
    const registry = new ArtifactRegistry(tempDir());
    for (let k = 0; k < 3; k++) await registry.publish('als', meta, async () => {});
    await registry.promote('als', 1);
    await registry.promote('als', 3);
    expect(await registry.current('als')).toBe(3);
    expect(await registry.rollback('als')).toBe(1);
    expect(await registry.current('als')).toBe(1);
    expect(await failureOf(registry.promote('als', 9), 'FY_ARTIFACT_NOT_FOUND')).toContain(
      'no version 9; versions: 1, 2, 3',
    );
    expect(await failureOf(registry.rollback('als'), 'FY_ARTIFACT_NOT_FOUND')).toContain(
      'no earlier promoted version',
    );
  });

  it('leaves nothing behind when writing the payload fails', async () => {
    const registry = new ArtifactRegistry(tempDir());
    await expect(
      registry.publish('bpr', meta, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await registry.versions('bpr')).toEqual([]);
    expect(await registry.names()).toEqual(['bpr']);
  });
});
