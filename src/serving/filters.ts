import type { Filter, FilterResult } from '../pipeline/components.js';
import { NO_LANGUAGE } from './bundle.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';

type FeedFilter = Filter<FeedQuery, FeedCandidate>;

function split(
  candidates: FeedCandidate[],
  why: (c: FeedCandidate) => string | null,
): FilterResult<FeedCandidate> {
  // The kept list is copied out only from the first removal on: most filters remove nothing from most
  // requests' candidates, and then hand their input on as it is.
  let kept: FeedCandidate[] | null = null;
  const removed: { candidate: FeedCandidate; reason: string }[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[k]!;
    const reason = why(c);
    if (reason === null) kept?.push(c);
    else {
      kept ??= candidates.slice(0, k);
      removed.push({ candidate: c, reason });
    }
  }
  return { kept: kept ?? candidates, removed };
}

/**
 * Drops the items the user engaged with or gave as context. Repeats of one item never reach it: the engine
 * merges the sources' candidates on their key, which for a feed candidate is its item index.
 */
export class DuplicateFilter implements FeedFilter {
  readonly kind = 'filter' as const;
  readonly id = 'duplicates';

  apply(query: FeedQuery, candidates: FeedCandidate[]): FilterResult<FeedCandidate> {
    const recent = query.recent ?? [];
    if (query.contextItems.length === 0 && recent.length === 0) return { kept: candidates, removed: [] };
    const engaged = new Set([...query.contextItems, ...recent]);
    return split(candidates, (c) => (engaged.has(c.item) ? 'already engaged' : null));
  }
}

/** Drops items already served to the user (impression history in the online store). */
export class SeenFilter implements FeedFilter {
  readonly kind = 'filter' as const;
  readonly id = 'already-seen';
  apply(query: FeedQuery, candidates: FeedCandidate[]): FilterResult<FeedCandidate> {
    const seen = query.seen;
    if (!seen || seen.size === 0) return { kept: candidates, removed: [] };
    const seenItems = query.seenItems;
    return split(candidates, (c) =>
      (seenItems ? seenItems.has(c.item) : seen.has(c.id)) ? 'already served' : null,
    );
  }
}

/** Drops items by creators the user marked not interested. */
export class NotInterestedFilter implements FeedFilter {
  readonly kind = 'filter' as const;
  readonly id = 'not-interested';
  apply(query: FeedQuery, candidates: FeedCandidate[]): FilterResult<FeedCandidate> {
    const blocked = query.blocked;
    if (!blocked || blocked.size === 0) return { kept: candidates, removed: [] };
    const creators = query.bundle.data.itemCreator;
    return split(candidates, (c) =>
      blocked.has(creators[c.item]!) ? 'creator marked not interested' : null,
    );
  }
}

/** Keeps items in a language the user reads (items of unknown language pass). */
export class LanguageFilter implements FeedFilter {
  readonly kind = 'filter' as const;
  readonly id = 'language';
  apply(query: FeedQuery, candidates: FeedCandidate[]): FilterResult<FeedCandidate> {
    if (query.languages.length === 0) return { kept: candidates, removed: [] };
    const reads = new Set(query.languages);
    const { itemLanguage, languages } = query.bundle.data;
    // One reason string per language, not one per removed candidate.
    const reasons = languages.map((name) => `language ${name} not read`);
    return split(candidates, (c) => {
      const l = itemLanguage[c.item]!;
      return l === NO_LANGUAGE || reads.has(l) ? null : reasons[l]!;
    });
  }
}
