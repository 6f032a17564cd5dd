/**
 * A simulated world written into a file event log the way ingest writes it: users and items on the
 * catalogue topic, the simulated history on the events topic. The job graph's tests start from it.
 */
import type { Event } from '../../src/core/schema/index.js';
import { CATALOG_TOPIC, EVENTS_TOPIC } from '../../src/features/streamer.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { simulateHistory } from '../../src/sim/history.js';
import type { World } from '../../src/sim/world.js';

/** Writes `world`'s catalogue and history into the log at `logDir`; resolves to the events written. */
export async function writeWorldToLog(world: World, logDir: string): Promise<Event[]> {
  const encoder = new TextEncoder();
  const log = await FileEventLog.open(logDir, { fsync: 'never' });
  try {
    const record = (kind: string, id: string, value: unknown) => ({
      id: `${kind}:${id}`,
      payload: encoder.encode(JSON.stringify({ kind, record: value })),
    });
    await log.append(
      CATALOG_TOPIC,
      Array.from({ length: world.userCount }, (_, u) => record('user', `u${u}`, world.userRecord(u))),
    );
    await log.append(
      CATALOG_TOPIC,
      Array.from({ length: world.itemCount }, (_, i) => record('item', `v${i}`, world.itemRecord(i))),
    );
    const events: Event[] = [];
    for (const batch of simulateHistory(world)) events.push(...batch.events);
    for (let k = 0; k < events.length; k += 5000)
      await log.append(
        EVENTS_TOPIC,
        events
          .slice(k, k + 5000)
          .map((e) => ({ id: e.event_id, payload: encoder.encode(JSON.stringify(e)) })),
      );
    return events;
  } finally {
    await log.close();
  }
}
