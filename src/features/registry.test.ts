import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { defineView, type FeatureViewDef } from './definition.js';
import { eventType } from './expr.js';
import { FORYOU_SERVICES, FORYOU_VIEWS } from './foryou-views.js';
import { FeatureRegistry } from './registry.js';

const base: FeatureViewDef = {
  name: 'plays',
  version: 1,
  entity: 'user',
  ttlMs: 1000,
  features: [{ name: 'plays_1h', kind: 'count', window: '1h', filter: eventType('play') }],
};

describe('feature definitions and registry', () => {
  it("accepts Foryou's own views and services", () => {
    const registry = new FeatureRegistry(FORYOU_VIEWS, FORYOU_SERVICES);
    expect(registry.resolve('item_features').numericNames).toHaveLength(66);
    expect(registry.resolve('user_features').listNames).toEqual([
      'user_engagement__engaged_items',
      'user_engagement__liked_items',
    ]);
  });

  it.each([
    [{ ...base, name: 'Plays' }, 'the name must be lower-case'],
    [{ ...base, entity: 'house' as never }, 'unknown entity "house"'],
    [{ ...base, features: [{ name: 'x', kind: 'count', window: '2h' } as never] }, 'unknown window "2h"'],
    [{ ...base, features: [...base.features, ...base.features] }, 'feature "plays_1h": defined twice'],
    [
      { ...base, features: [{ name: 'r', kind: 'ratio', numerator: 'a', denominator: 'plays_1h' } as never] },
      'refers to "a"',
    ],
    [
      { ...base, features: [{ name: 'd', kind: 'decayed_sum', window: '30d', halfLifeMs: 1000 } as never] },
      'halfLifeMs must be at least',
    ],
  ])('refuses an invalid view (%#) naming the view, feature and rule', (view, message) => {
    expect(() => defineView(view as FeatureViewDef)).toThrow(message);
  });

  it('resolves services and refuses unknown references and mixed entities', () => {
    expect(
      () => new FeatureRegistry([base], [{ name: 's', entity: 'user', features: ['plays:nope'] }]),
    ).toThrow('view "plays" has no feature "nope"');
    expect(() => new FeatureRegistry([base], [{ name: 's', entity: 'item', features: ['plays'] }])).toThrow(
      'is for item but view "plays" is for user',
    );
    expect(() => new FeatureRegistry([base]).resolve('nope')).toThrow('no feature service "nope"');
  });

  it('records versions and refuses a changed view whose version was not bumped', async () => {
    const path = join(tempDir(), 'registry.json');
    expect((await new FeatureRegistry([base]).record(path)).added).toEqual(['plays v1']);
    expect((await new FeatureRegistry([base]).record(path)).added).toEqual([]);
    const changed = { ...base, features: [{ ...base.features[0]!, window: '1d' as const }] };
    const message = await failureOf(new FeatureRegistry([changed]).record(path), 'FY_FEATURE_INCOMPATIBLE');
    expect(message).toContain('feature view "plays" changed but its version is still 1');
    expect((await new FeatureRegistry([{ ...changed, version: 2 }]).record(path)).added).toEqual([
      'plays v2',
    ]);
    expect(
      await failureOf(
        new FeatureRegistry([{ ...base, version: 1, ttlMs: 5 }]).record(path),
        'FY_FEATURE_INCOMPATIBLE',
      ),
    ).toContain('still 1');
    expect(JSON.parse(readFileSync(path, 'utf8')).views.plays).toHaveLength(2);
  });
});
