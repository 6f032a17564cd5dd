import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS } from './layers.js';
import { checkLayers } from './lint-layers.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'foryou-layers-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const layers = { core: [], sim: ['core'], cli: ['*'] };

describe('lint-layers', () => {
  it('accepts imports that flow down the table', () => {
    const src = tree({
      'core/ids.ts': 'export const x = 1;\n',
      'sim/world.ts': "import { x } from '../core/ids.js';\nimport { y } from './other.js';\n",
      'cli/main.ts': "import '../sim/world.js';\nexport * from '../core/ids.js';\n",
    });
    expect(checkLayers(src, layers)).toEqual([]);
  });

  it('reports an upward import with file, line and the allowed modules', () => {
    const src = tree({
      'core/ids.ts': "export const x = 1;\n\nimport type { W } from '../sim/world.js';\n",
      'sim/world.ts': "const m = await import('../cli/main.js');\n",
    });
    const violations = checkLayers(src, layers);
    expect(violations.map((v) => [v.line, v.message])).toEqual([
      [3, 'core must not import sim ("../sim/world.js"); core may import only nothing'],
      [1, 'sim must not import cli ("../cli/main.js"); sim may import only core'],
    ]);
  });

  it('reports a module missing from the table', () => {
    const src = tree({ 'rogue/x.ts': 'export {};\n' });
    expect(checkLayers(src, layers)[0]?.message).toContain('module "rogue" is not in the layer table');
  });

  it('the real source tree follows the table', () => {
    const violations = checkLayers(new URL('../src', import.meta.url).pathname);
    expect(violations).toEqual([]);
  });

  it('ARCHITECTURE.md lists every built module with the same allowed imports', () => {
    const doc = readFileSync(new URL('../ARCHITECTURE.md', import.meta.url), 'utf8');
    const built = readdirSync(new URL('../src', import.meta.url)).filter((n) => !n.includes('.'));
    for (const module of built) {
      const row = new RegExp(`^\\|\\s*\`${module}\`\\s*\\|[^|]*\\|([^|]*)\\|`, 'm').exec(doc);
      expect(row, `ARCHITECTURE.md has no row for ${module}`).not.toBeNull();
      const documented = row![1]!.trim() === 'nothing' ? [] : row![1]!.split(',').map((s) => s.trim());
      const expected = LAYERS[module]!.includes('*') ? ['everything'] : [...LAYERS[module]!];
      expect(documented.sort(), module).toEqual(expected.sort());
    }
  });
});
