import type { Event, EventType } from '../core/schema/index.js';
import type { SessionRecord } from './history.js';
import { indexOfId, type World } from './world.js';

export interface WorldSummary {
  users: number;
  items: number;
  creators: number;
  days: number;
  events: number;
  eventsByType: Partial<Record<EventType, number>>;
  activeUsers: number;
  sessions: { count: number; meanItems: number; p50Items: number; p90Items: number; meanWatchSec: number };
  rates: {
    likePerPlay: number;
    sharePerPlay: number;
    commentPerPlay: number;
    followPerPlay: number;
    skipPerImpression: number;
    notInterestedPerImpression: number;
  };
  watch: {
    meanFraction: number;
    completionRate: number;
    fractionDeciles: number[];
    p50WatchSec: number;
    p90WatchSec: number;
  };
  popularity: {
    top1PctShare: number;
    top10PctShare: number;
    gini: number;
    itemsWithPlays: number;
    topItems: { item: string; plays: number }[];
  };
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Gini coefficient of non-negative counts (0 = every item equally popular, 1 = one item takes all). */
export function gini(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let cum = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    cum += sorted[i]!;
    weighted += (i + 1) * sorted[i]!;
  }
  return cum === 0 ? 0 : (2 * weighted) / (n * cum) - (n + 1) / n;
}

/** Accumulates a summary while events stream past, in memory proportional to users and items only. */
export class SummaryCollector {
  private readonly byType = new Map<EventType, number>();
  private readonly playsPerItem: Uint32Array;
  private readonly activeUser: Uint8Array;
  private readonly fractionHistogram = new Float64Array(21); // 0.1 wide bins up to 2.0, last bin is 2.0+
  private readonly watchSecHistogram = new Float64Array(601); // 1 s bins up to 600 s
  private readonly sessionItems: number[] = [];
  private sessionWatchMs = 0;
  private fractionSum = 0;
  private completions = 0;
  private events = 0;

  constructor(private readonly world: World) {
    this.playsPerItem = new Uint32Array(world.itemCount);
    this.activeUser = new Uint8Array(world.userCount);
  }

  addEvent(event: Event): void {
    this.events++;
    this.byType.set(event.type, (this.byType.get(event.type) ?? 0) + 1);
    if (event.type !== 'play') return;
    const i = indexOfId(event.item_id, 'v', this.world.itemCount);
    if (i >= 0) this.playsPerItem[i]!++;
    const u = indexOfId(event.user_id, 'u', this.world.userCount);
    if (u >= 0) this.activeUser[u] = 1;
    const fraction = event.watch_ms / event.duration_ms;
    this.fractionSum += fraction;
    if (fraction >= 0.95) this.completions++;
    this.fractionHistogram[Math.min(20, Math.floor(fraction * 10))]!++;
    this.watchSecHistogram[Math.min(600, Math.floor(event.watch_ms / 1000))]!++;
  }

  addSession(session: SessionRecord): void {
    this.sessionItems.push(session.items);
    this.sessionWatchMs += session.watchMs;
  }

  finish(): WorldSummary {
    const count = (t: EventType) => this.byType.get(t) ?? 0;
    const plays = count('play');
    const impressions = count('impression');
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    const sortedPlays = Uint32Array.from(this.playsPerItem).sort().reverse();
    const totalPlays = sortedPlays.reduce((a, b) => a + b, 0);
    const shareOfTop = (share: number) => {
      const k = Math.max(1, Math.ceil(sortedPlays.length * share));
      let s = 0;
      for (let i = 0; i < k; i++) s += sortedPlays[i]!;
      return ratio(s, totalPlays);
    };
    const order = Array.from(this.playsPerItem.keys()).sort(
      (a, b) => this.playsPerItem[b]! - this.playsPerItem[a]!,
    );
    const items = Int32Array.from(this.sessionItems).sort();
    const histogramQuantile = (hist: Float64Array, q: number) => {
      const total = hist.reduce((a, b) => a + b, 0);
      let acc = 0;
      for (let b = 0; b < hist.length; b++) {
        acc += hist[b]!;
        if (acc >= q * total) return b;
      }
      return hist.length - 1;
    };
    return {
      users: this.world.userCount,
      items: this.world.itemCount,
      creators: this.world.creatorCount,
      days: this.world.params.days,
      events: this.events,
      eventsByType: Object.fromEntries([...this.byType.entries()].sort((a, b) => b[1] - a[1])),
      activeUsers: this.activeUser.reduce((a, b) => a + b, 0),
      sessions: {
        count: items.length,
        meanItems: ratio(
          items.reduce((a, b) => a + b, 0),
          items.length,
        ),
        p50Items: quantile(items, 0.5),
        p90Items: quantile(items, 0.9),
        meanWatchSec: ratio(this.sessionWatchMs / 1000, items.length),
      },
      rates: {
        likePerPlay: ratio(count('like'), plays),
        sharePerPlay: ratio(count('share'), plays),
        commentPerPlay: ratio(count('comment'), plays),
        followPerPlay: ratio(count('follow'), plays),
        skipPerImpression: ratio(count('skip'), impressions),
        notInterestedPerImpression: ratio(count('not_interested'), impressions),
      },
      watch: {
        meanFraction: ratio(this.fractionSum, plays),
        completionRate: ratio(this.completions, plays),
        fractionDeciles: Array.from(this.fractionHistogram, (c) => ratio(c, plays)),
        p50WatchSec: histogramQuantile(this.watchSecHistogram, 0.5),
        p90WatchSec: histogramQuantile(this.watchSecHistogram, 0.9),
      },
      popularity: {
        top1PctShare: shareOfTop(0.01),
        top10PctShare: shareOfTop(0.1),
        gini: gini(this.playsPerItem),
        itemsWithPlays: sortedPlays.reduce((a, b) => a + (b > 0 ? 1 : 0), 0),
        topItems: order.slice(0, 10).map((i) => ({ item: `v${i}`, plays: this.playsPerItem[i]! })),
      },
    };
  }
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

/** The summary as a short plain-text report. */
export function formatSummary(s: WorldSummary): string {
  const lines = [
    `world: ${int(s.users)} users, ${int(s.creators)} creators, ${int(s.items)} videos, ${s.days} days`,
    `events: ${int(s.events)} (${Object.entries(s.eventsByType)
      .map(([t, n]) => `${t} ${int(n)}`)
      .join(', ')})`,
    `active users: ${int(s.activeUsers)} (${pct(s.activeUsers / Math.max(1, s.users))}); sessions: ${int(s.sessions.count)}, ` +
      `videos per session mean ${s.sessions.meanItems.toFixed(1)} (p50 ${s.sessions.p50Items}, p90 ${s.sessions.p90Items}), ` +
      `watch per session ${s.sessions.meanWatchSec.toFixed(0)} s`,
    `engagement per play: like ${pct(s.rates.likePerPlay, 2)}, share ${pct(s.rates.sharePerPlay, 2)}, comment ${pct(s.rates.commentPerPlay, 2)}, ` +
      `follow ${pct(s.rates.followPerPlay, 2)}; per impression: skip ${pct(s.rates.skipPerImpression)}, not interested ${pct(s.rates.notInterestedPerImpression, 2)}`,
    `watch time: mean fraction watched ${s.watch.meanFraction.toFixed(2)}, completed ${pct(s.watch.completionRate)}, ` +
      `median ${s.watch.p50WatchSec} s, p90 ${s.watch.p90WatchSec} s`,
    `  fraction watched: ${s.watch.fractionDeciles
      .map((f, b) => [b, f] as const)
      .filter(([, f]) => f >= 0.005)
      .map(
        ([b, f]) =>
          `${b === 20 ? '2.0+' : `${(b / 10).toFixed(1)}-${((b + 1) / 10).toFixed(1)}`} ${pct(f, 0)}`,
      )
      .join(' | ')}`,
    `popularity: top 1% of videos take ${pct(s.popularity.top1PctShare)} of plays, top 10% take ${pct(s.popularity.top10PctShare)}; ` +
      `Gini ${s.popularity.gini.toFixed(2)}; ${int(s.popularity.itemsWithPlays)} videos played at least once`,
    `  most played: ${s.popularity.topItems.map((t) => `${t.item} ${int(t.plays)}`).join(', ')}`,
  ];
  return lines.join('\n');
}
