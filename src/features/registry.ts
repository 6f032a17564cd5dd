import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { canonicalJson, defineView, type EntityName, type FeatureViewDef } from './definition.js';

/** A named set of features of one entity, read together (one round trip online, one join offline). */
export interface FeatureServiceDef {
  name: string;
  entity: EntityName;
  /** `view` (all its features) or `view:feature`. */
  features: string[];
}

export interface ResolvedService {
  def: FeatureServiceDef;
  /** Views the service reads, each with the indices of its numeric and list features the service uses. */
  views: { view: FeatureViewDef; numeric: number[]; lists: number[] }[];
  /** Output column names, `view__feature`, numeric first (matrix columns), then lists. */
  numericNames: string[];
  listNames: string[];
}

interface StoredView {
  version: number;
  fingerprint: string;
  registeredAt: string;
  definition: unknown;
}

interface RegistryFile {
  views: Record<string, StoredView[]>;
}

export function fingerprint(view: FeatureViewDef): string {
  return createHash('sha256')
    .update(canonicalJson({ ...view, description: undefined }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The feature registry: every view and service the platform serves, with each view's versions recorded in
 * a JSON file so a change to a view's features without a version bump is refused (the online store keys and
 * the packed row layout both depend on the version).
 */
export class FeatureRegistry {
  private readonly views = new Map<string, FeatureViewDef>();
  private readonly services = new Map<string, FeatureServiceDef>();
  /** Resolved services by name: reads resolve on every request, definitions only grow. */
  private readonly resolved = new Map<string, ResolvedService>();

  constructor(views: readonly FeatureViewDef[] = [], services: readonly FeatureServiceDef[] = []) {
    for (const v of views) this.addView(v);
    for (const s of services) this.addService(s);
  }

  addView(view: FeatureViewDef): void {
    defineView(view);
    if (this.views.has(view.name))
      throw new ForyouError('FY_INVALID_ARGUMENT', `feature view "${view.name}" is defined twice`);
    this.views.set(view.name, view);
  }

  addService(service: FeatureServiceDef): void {
    if (this.services.has(service.name))
      throw new ForyouError('FY_INVALID_ARGUMENT', `feature service "${service.name}" is defined twice`);
    this.services.set(service.name, service);
    this.resolve(service.name);
  }

  view(name: string): FeatureViewDef {
    const view = this.views.get(name);
    if (!view)
      throw new ForyouError(
        'FY_FEATURE_UNKNOWN',
        `no feature view "${name}"; known: ${[...this.views.keys()].join(', ')}`,
      );
    return view;
  }

  allViews(): FeatureViewDef[] {
    return [...this.views.values()];
  }

  allServices(): FeatureServiceDef[] {
    return [...this.services.values()];
  }

  /** Resolves a service's references to views and feature indices; unknown references fail with their name. */
  resolve(name: string): ResolvedService {
    const cached = this.resolved.get(name);
    if (cached) return cached;
    const def = this.services.get(name);
    if (!def)
      throw new ForyouError(
        'FY_FEATURE_UNKNOWN',
        `no feature service "${name}"; known: ${[...this.services.keys()].join(', ')}`,
      );
    const byView = new Map<string, { view: FeatureViewDef; numeric: Set<number>; lists: Set<number> }>();
    for (const ref of def.features) {
      const [viewName, featureName] = ref.split(':');
      const view = this.view(viewName!);
      if (view.entity !== def.entity)
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `service "${name}" is for ${def.entity} but view "${view.name}" is for ${view.entity}`,
        );
      const entry = byView.get(view.name) ?? { view, numeric: new Set<number>(), lists: new Set<number>() };
      byView.set(view.name, entry);
      const numeric = view.features.filter((f) => f.kind !== 'last_n');
      const lists = view.features.filter((f) => f.kind === 'last_n');
      if (featureName === undefined) {
        for (let i = 0; i < numeric.length; i++) entry.numeric.add(i);
        for (let i = 0; i < lists.length; i++) entry.lists.add(i);
        continue;
      }
      const n = numeric.findIndex((f) => f.name === featureName);
      const l = lists.findIndex((f) => f.name === featureName);
      if (n < 0 && l < 0)
        throw new ForyouError(
          'FY_FEATURE_UNKNOWN',
          `service "${name}": view "${view.name}" has no feature "${featureName}"`,
        );
      if (n >= 0) entry.numeric.add(n);
      else entry.lists.add(l);
    }
    const views = [...byView.values()].map((e) => ({
      view: e.view,
      numeric: [...e.numeric].sort((a, b) => a - b),
      lists: [...e.lists].sort((a, b) => a - b),
    }));
    const numericOf = (v: FeatureViewDef) => v.features.filter((f) => f.kind !== 'last_n');
    const listsOf = (v: FeatureViewDef) => v.features.filter((f) => f.kind === 'last_n');
    const service: ResolvedService = {
      def,
      views,
      numericNames: views.flatMap((e) =>
        e.numeric.map((i) => `${e.view.name}__${numericOf(e.view)[i]!.name}`),
      ),
      listNames: views.flatMap((e) => e.lists.map((i) => `${e.view.name}__${listsOf(e.view)[i]!.name}`)),
    };
    this.resolved.set(name, service);
    return service;
  }

  /**
   * Records the current definitions in `path`, refusing (FY_FEATURE_INCOMPATIBLE) a view whose definition
   * changed while its version did not, or whose version went backwards.
   */
  async record(path: string): Promise<{ added: string[] }> {
    let file: RegistryFile = { views: {} };
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as RegistryFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new ForyouError(
          'FY_IO_FAILED',
          `cannot read the feature registry ${path}: ${(error as Error).message}`,
          { cause: error },
        );
    }
    const added: string[] = [];
    for (const view of this.views.values()) {
      const history = file.views[view.name] ?? [];
      const print = fingerprint(view);
      const same = history.find((h) => h.version === view.version);
      if (same && same.fingerprint !== print)
        throw new ForyouError(
          'FY_FEATURE_INCOMPATIBLE',
          `feature view "${view.name}" changed but its version is still ${view.version}; bump the version (stored values and their layout depend on it)`,
          {
            details: {
              view: view.name,
              version: view.version,
              before: same.definition,
              after: JSON.parse(canonicalJson(view)),
            },
          },
        );
      const newest = Math.max(0, ...history.map((h) => h.version));
      if (!same && view.version < newest)
        throw new ForyouError(
          'FY_FEATURE_INCOMPATIBLE',
          `feature view "${view.name}" has version ${view.version}, older than the recorded ${newest}`,
        );
      if (!same) {
        history.push({
          version: view.version,
          fingerprint: print,
          registeredAt: new Date().toISOString(),
          definition: JSON.parse(canonicalJson(view)),
        });
        file.views[view.name] = history;
        added.push(`${view.name} v${view.version}`);
      }
    }
    if (added.length > 0) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
      await rename(`${path}.tmp`, path);
    }
    return { added };
  }
}

/** The online store key of a view's row for one entity. */
export function onlineKey(view: FeatureViewDef, entityKey: string): string {
  return onlineKeyPrefix(view) + entityKey;
}

/**
 * What every online key of `view` starts with: `fv:<view>@v<version>:`, the store namespace (its first two
 * segments) of this version of the view, so the entity key follows it as it is.
 */
export function onlineKeyPrefix(view: FeatureViewDef): string {
  return `fv:${view.name}@v${view.version}:`;
}
