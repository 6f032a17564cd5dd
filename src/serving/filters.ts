import type { Filter, FilterResult } from '../pipeline/components.js';
import { NO_LANGUAGE } from './bundle.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';

type FeedFilter = Filter<FeedQuery, FeedCandidate>;

function split(
  candidates: FeedCandidate[],
  why: (c: FeedCandidate) => string | null,
): FilterResult<FeedCandidate> {
  const kept: FeedCandidate[] = [];
  const removed: { candidate: FeedCandidate; reason: string }[] = [];
  for (const c of candidates) {
    const reason = why(c);
    if (reason === null) kept.push(c);
    else removed.push({ candidate: c, reason });
  }
  return { kept, removed };
}

/** Drops repeated ids and the items the user engaged with or gave as context. */
export class DuplicateFilter implements FeedFilter {
  readonly kind = 'filter' as const;
  readonly id = 'duplicates';
  apply(query: FeedQuery, candidates: FeedCandidate[]): FilterResult<FeedCandidate> {
    const engaged = new Set([...query.contextItems, ...(query.recent ?? [])]);
    const seen = new Set<number>();
    return split(candidates, (c) => {
      if (seen.has(c.item)) return 'duplicate';
      seen.add(c.item);
      return engaged.has(c.item) ? 'already engaged' : null;
    });
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
    return split(candidates, (c) => {
      const l = itemLanguage[c.item]!;
      return l === NO_LANGUAGE || reads.has(l) ? null : `language ${languages[l]} not read`;
    });
  }
}
