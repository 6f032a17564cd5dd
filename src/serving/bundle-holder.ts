import { ForyouError } from '../core/errors.js';
import type { ArtifactRegistry } from '../models/artifact-registry.js';
import { ServingBundle } from './bundle.js';

/**
 * Calls `reload` every `intervalMs` without keeping the process alive, its errors to `onError`: how the
 * serving holders (bundle, two-tower index) pick up a newly promoted or rolled-back version.
 */
export function pollRegistry(
  intervalMs: number,
  reload: () => Promise<unknown>,
  onError: (error: unknown) => void,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    reload().catch(onError);
  }, intervalMs);
  timer.unref();
  return timer;
}

/** Artifact name of serving bundles in the registry. */
export const BUNDLE_ARTIFACT = 'serving-bundle';

/**
 * The bundle in service, swapped atomically: a request takes `current` once when it starts and keeps that
 * bundle to the end, so loading a newly promoted version never disturbs a request in flight, and no
 * request waits for a load (the new bundle is fully loaded before the reference moves).
 */
export class BundleHolder {
  private bundle: ServingBundle;
  private loadedVersion: number | null;
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<boolean> | null = null;
  swaps = 0;

  constructor(initial: ServingBundle, registryVersion: number | null = null) {
    this.bundle = initial;
    this.loadedVersion = registryVersion;
  }

  get current(): ServingBundle {
    return this.bundle;
  }

  /** Replaces the bundle in service. */
  swap(next: ServingBundle, registryVersion: number | null = null): void {
    this.bundle = next;
    this.loadedVersion = registryVersion;
    this.swaps++;
  }

  /** Opens the promoted bundle of `registry`. */
  static async fromRegistry(registry: ArtifactRegistry, name = BUNDLE_ARTIFACT): Promise<BundleHolder> {
    const version = await registry.current(name);
    if (version === null)
      throw new ForyouError(
        'FY_ARTIFACT_NOT_FOUND',
        `no promoted ${name} in ${registry.dir}; build and promote a serving bundle first`,
      );
    return new BundleHolder(await ServingBundle.load(registry.pathOf(name, version)), version);
  }

  /** Loads the promoted version if it differs from the one in service; true when it swapped. */
  reload(registry: ArtifactRegistry, name = BUNDLE_ARTIFACT): Promise<boolean> {
    this.loading ??= (async () => {
      try {
        const version = await registry.current(name);
        if (version === null || version === this.loadedVersion) return false;
        this.swap(await ServingBundle.load(registry.pathOf(name, version)), version);
        return true;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Checks the registry every `intervalMs` and loads a newly promoted (or rolled back) bundle. */
  watch(
    registry: ArtifactRegistry,
    intervalMs = 2000,
    onError: (error: unknown) => void = () => {},
    name = BUNDLE_ARTIFACT,
  ): void {
    this.stop();
    this.timer = pollRegistry(intervalMs, () => this.reload(registry, name), onError);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
