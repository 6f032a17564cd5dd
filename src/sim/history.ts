import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/clock.js';
import { asRequestId, type RequestId } from '../core/ids.js';
import { AliasTable, Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import { BehaviourModel, type UserSession, type ViewOutcome } from './behaviour.js';
import { IncumbentFeedPolicy } from './feed-policy.js';
import type { World } from './world.js';

/** Relative share of sessions starting in each hour of the day: a lunch bump and an evening peak. */
const DIURNAL = [3, 2, 1.5, 1, 1, 1.5, 3, 5, 6, 6, 6, 7, 9, 8, 7, 7, 8, 9, 11, 13, 14, 13, 10, 6];
const WEEKEND_FACTOR = 1.15;
/** Share of sessions that open with a search instead of the feed. */
const SEARCH_SHARE = 0.05;
/**
 * History is simulated and yielded in steps of this length. Shorter steps hold fewer events in memory at
 * once (a 1M-user world makes about 100,000 events per busy 10 minutes); the incumbent still refreshes hourly.
 */
export const STEP_MS = 10 * MS_PER_MINUTE;
const STEPS_PER_DAY = MS_PER_DAY / STEP_MS;

/** Facts about a finished session, for summaries and A/B metrics. */
export interface SessionRecord {
  user: number;
  startMs: number;
  items: number;
  watchMs: number;
}

export interface HistoryObserver {
  onView?(u: number, outcome: ViewOutcome): void;
  onSession?(session: SessionRecord): void;
}

/** Mints request ids for feed pages. */
export class RequestIdMint {
  private next = 0;
  constructor(private readonly prefix: string) {}
  mint(): RequestId {
    return asRequestId(`${this.prefix}${(this.next++).toString(36)}`);
  }
}

/**
 * The platform's past, step by step: users open the app at heavy-tailed rates with a daily rhythm, the
 * incumbent feed serves pages, the behaviour model answers. Each yielded batch holds the events of one
 * step (`STEP_MS`) in time order (events of sessions that run past the step are carried into the next batch), so a
 * history of any length streams in bounded memory.
 */
export interface HistoryOptions {
  /** Stop here instead of at the world's end (e.g. where a live phase takes over). */
  endMs?: number;
  /** The audience to use, to keep its state (follows, drift) afterwards; by default one is made. */
  model?: BehaviourModel;
}

export function* simulateHistory(
  world: World,
  observer: HistoryObserver = {},
  options: HistoryOptions = {},
): Generator<{ step: number; steps: number; events: Event[] }> {
  const root = new Rng(world.params.seed);
  const model = options.model ?? audienceOf(world);
  const policy = new IncumbentFeedPolicy(world, model, root.fork('policy'));
  const rng = root.fork('sessions');
  const requests = new RequestIdMint(`s${world.params.seed}-r`);
  const hourTable = new AliasTable(DIURNAL);
  const endMs = Math.min(world.endMs, options.endMs ?? world.endMs);
  const steps = Math.ceil((endMs - world.startMs) / STEP_MS);
  const pageSize = world.params.pageSize;
  let carry: Event[] = [];
  let sessionsByStep: { user: number; startMs: number }[][] = [];
  const page: number[] = [];

  for (let step = 0; step < steps; step++) {
    const stepStart = world.startMs + step * STEP_MS;
    if (step % STEPS_PER_DAY === 0) sessionsByStep = planDay(world, rng, hourTable, stepStart);
    if ((stepStart - world.startMs) % MS_PER_HOUR === 0) policy.refresh(stepStart);
    const planned = sessionsByStep[step % STEPS_PER_DAY] ?? [];
    planned.sort((a, b) => a.startMs - b.startMs || a.user - b.user);
    const events: Event[] = carry;
    for (const { user, startMs } of planned) {
      if (startMs >= endMs) continue;
      const session = model.startSession(user, startMs);
      if (rng.chance(SEARCH_SHARE)) {
        const requestId = requests.mint();
        const topic = session.search(events, requestId);
        viewPage(
          session,
          policy.searchResults(session, topic, pageSize, page),
          requestId,
          events,
          policy,
          observer,
        );
      }
      while (session.active) {
        policy.page(session, pageSize, page);
        if (page.length === 0) break;
        viewPage(session, page, requests.mint(), events, policy, observer);
      }
      observer.onSession?.({ user, startMs, items: session.depth, watchMs: session.watchMs });
    }
    events.sort((a, b) => a.ts - b.ts);
    const stepEnd = stepStart + STEP_MS;
    const last = step === steps - 1;
    let cut = events.length;
    if (!last) while (cut > 0 && events[cut - 1]!.ts >= stepEnd) cut--;
    carry = events.slice(cut);
    events.length = cut;
    yield { step, steps, events };
  }
}

function viewPage(
  session: UserSession,
  items: readonly number[],
  requestId: RequestId,
  events: Event[],
  policy: IncumbentFeedPolicy,
  observer: HistoryObserver,
): void {
  for (let position = 0; position < items.length && session.active; position++) {
    const outcome = session.view(items[position]!, requestId, position, events);
    policy.observe(session.user, outcome);
    observer.onView?.(session.user, outcome);
  }
}

/** The simulated audience of a world, seeded as `simulateHistory` seeds its own. */
export function audienceOf(world: World): BehaviourModel {
  return new BehaviourModel(world, new Rng(world.params.seed).fork('behaviour'));
}

/** The diurnal table `planDay` draws session start hours from. */
export function diurnalTable(): AliasTable {
  return new AliasTable(DIURNAL);
}

/** Draws every user's sessions for the day starting at `dayStart`, bucketed by `STEP_MS` step. */
export function planDay(
  world: World,
  rng: Rng,
  hourTable: AliasTable,
  dayStart: number,
): { user: number; startMs: number }[][] {
  const buckets: { user: number; startMs: number }[][] = Array.from({ length: STEPS_PER_DAY }, () => []);
  const weekday = new Date(dayStart).getUTCDay();
  const factor = weekday === 0 || weekday === 6 ? WEEKEND_FACTOR : 1;
  const dayEnd = dayStart + MS_PER_DAY;
  for (let u = 0; u < world.userCount; u++) {
    const signup = world.userSignupMs[u]!;
    if (signup >= dayEnd) continue;
    const count = rng.poisson(world.userActivity[u]! * factor);
    for (let s = 0; s < count; s++) {
      const h = hourTable.sample(rng);
      const startMs = Math.floor(dayStart + h * MS_PER_HOUR + rng.float() * MS_PER_HOUR);
      if (startMs >= signup) buckets[Math.floor((startMs - dayStart) / STEP_MS)]!.push({ user: u, startMs });
    }
  }
  return buckets;
}
