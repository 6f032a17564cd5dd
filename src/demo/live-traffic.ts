import { MS_PER_DAY } from '../core/clock.js';
import { asRequestId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import type { BehaviourModel } from '../sim/behaviour.js';
import { diurnalTable, planDay, STEP_MS } from '../sim/history.js';
import { indexOfId, type World } from '../sim/world.js';

/** One page of a feed as the client sees it. */
export interface FeedPage {
  items: string[];
  /** The experiment arm serving assigned the user to. */
  arm: string;
  requestId: string;
  cursor: string;
  degraded: boolean;
}

/** How simulated users reach the platform: the real HTTP API in the demo. */
export interface PlatformClient {
  feed(user: string, count: number, cursor: string | undefined, nowMs: number): Promise<FeedPage>;
  /** Sends what users did; resolves when the platform has acknowledged it. */
  send(events: Event[]): Promise<void>;
}

/** What one arm's users did: per user (indexed by world user), for the A/B statistics. */
export class ArmTally {
  readonly sessions = new Map<number, number>();
  readonly watchMs = new Map<number, number>();
  readonly plays = new Map<number, number>();
  readonly likes = new Map<number, number>();
  readonly shown = new Set<string>();
  requests = 0;
  degraded = 0;
  readonly latencyMs: number[] = [];

  add(map: Map<number, number>, user: number, value: number): void {
    map.set(user, (map.get(user) ?? 0) + value);
  }

  /** Users in the arm, in a fixed order, with their per-user totals. */
  perUser(): { users: number[]; sessions: number[]; watchMs: number[]; plays: number[]; likes: number[] } {
    const users = [...this.sessions.keys()].sort((a, b) => a - b);
    const of = (m: Map<number, number>) => users.map((u) => m.get(u) ?? 0);
    return {
      users,
      sessions: of(this.sessions),
      watchMs: of(this.watchMs),
      plays: of(this.plays),
      likes: of(this.likes),
    };
  }
}

export interface LiveTrafficOptions {
  world: World;
  audience: BehaviourModel;
  client: PlatformClient;
  rng: Rng;
  pageSize: number;
  /** Sessions run concurrently within a step (their requests overlap, as real clients' do). */
  concurrency: number;
  /** A session stops after this many pages even if the user would scroll on. */
  maxPages?: number;
}

/**
 * Simulated users scrolling their feeds on the live platform, 10 simulated minutes at a time: sessions
 * start as in the history (heavy-tailed activity, daily rhythm), each asks the platform for pages and
 * watches them through the behaviour model, and everything they do goes back through ingestion, except
 * impressions, which serving logs itself (with its request id and positions).
 */
export class LiveTraffic {
  readonly arms = new Map<string, ArmTally>();
  private readonly hours = diurnalTable();
  private planned: { user: number; startMs: number }[][] = [];
  private plannedDay = Number.NaN;
  private requestSerial = 0;

  constructor(private readonly o: LiveTrafficOptions) {}

  tally(arm: string): ArmTally {
    let t = this.arms.get(arm);
    if (!t) {
      t = new ArmTally();
      this.arms.set(arm, t);
    }
    return t;
  }

  /** Runs the sessions that start in [stepStart, stepStart + STEP_MS); returns how many ran. */
  async step(stepStart: number): Promise<number> {
    const { world } = this.o;
    const day = Math.floor((stepStart - world.startMs) / MS_PER_DAY);
    if (day !== this.plannedDay) {
      this.planned = planDay(world, this.o.rng, this.hours, world.startMs + day * MS_PER_DAY);
      this.plannedDay = day;
    }
    const index = Math.floor((stepStart - (world.startMs + day * MS_PER_DAY)) / STEP_MS);
    const sessions = [...(this.planned[index] ?? [])].sort(
      (a, b) => a.startMs - b.startMs || a.user - b.user,
    );
    let next = 0;
    const worker = async () => {
      while (next < sessions.length) {
        const s = sessions[next++]!;
        await this.session(s.user, s.startMs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, sessions.length) }, worker));
    return sessions.length;
  }

  private async session(user: number, startMs: number): Promise<void> {
    const { audience, client, pageSize, world } = this.o;
    const session = audience.startSession(user, startMs);
    const userId = `u${user}`;
    const events: Event[] = [];
    let cursor: string | undefined;
    let arm: ArmTally | null = null;
    const maxPages = this.o.maxPages ?? 20;
    for (let pageNo = 0; pageNo < maxPages && session.active; pageNo++) {
      const started = performance.now();
      const page = await client.feed(userId, pageSize, cursor, Math.floor(session.nowMs));
      const latency = performance.now() - started;
      arm ??= this.tally(page.arm);
      arm.requests++;
      arm.latencyMs.push(latency);
      if (page.degraded) arm.degraded++;
      cursor = page.cursor;
      if (page.items.length === 0) break;
      const requestId = asRequestId(page.requestId || `live-${this.requestSerial++}`);
      for (let position = 0; position < page.items.length && session.active; position++) {
        const id = page.items[position]!;
        const item = indexOfId(id, 'v', world.itemCount);
        arm.shown.add(id);
        const outcome = session.view(item, requestId, position, events);
        arm.add(arm.plays, user, 1);
        if (outcome.liked) arm.add(arm.likes, user, 1);
      }
    }
    if (!arm) return;
    arm.add(arm.sessions, user, 1);
    arm.add(arm.watchMs, user, session.watchMs);
    const sent = events.filter((e) => e.type !== 'impression');
    if (sent.length > 0) await client.send(sent);
  }
}
