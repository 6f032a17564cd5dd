import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYERS } from './layers.js';

export interface LayerViolation {
  file: string;
  line: number;
  message: string;
}

const IMPORT_PATTERN =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function moduleOf(srcDir: string, file: string): string | null {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? (parts[0] as string) : null;
}

/** Checks every import under `srcDir` against the layer table. */
export function checkLayers(
  srcDir: string,
  layers: Readonly<Record<string, readonly string[]>> = LAYERS,
): LayerViolation[] {
  const violations: LayerViolation[] = [];
  const modules = readdirSync(srcDir).filter((name) => statSync(join(srcDir, name)).isDirectory());
  for (const module of modules) {
    if (!(module in layers))
      violations.push({
        file: join(srcDir, module),
        line: 0,
        message: `module "${module}" is not in the layer table (tools/layers.ts)`,
      });
  }
  for (const file of listTs(srcDir)) {
    const from = moduleOf(srcDir, file);
    if (from === null) continue;
    const allowed = layers[from] ?? [];
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT_PATTERN)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec?.startsWith('.')) continue;
      const target = moduleOf(srcDir, resolve(dirname(file), spec));
      if (target === null || target === from || allowed.includes('*') || allowed.includes(target)) continue;
      const line = text.slice(0, match.index + match[0].indexOf(spec)).split('\n').length;
      violations.push({
        file,
        line,
        message: `${from} must not import ${target} ("${spec}"); ${from} may import only ${allowed.join(', ') || 'nothing'}`,
      });
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const violations = checkLayers(join(root, 'src'));
  for (const v of violations) console.error(`${relative(root, v.file)}:${v.line}  ${v.message}`);
  if (violations.length > 0) {
    console.error(`layers: ${violations.length} import(s) break the module order of ARCHITECTURE.md`);
    process.exit(1);
  }
  console.log('layers: every import follows the module order');
}
