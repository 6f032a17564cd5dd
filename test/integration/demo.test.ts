/**
 * The closed loop at small scale (issue 6): a simulated world's history through the real ingest API, the job
 * graph (lake, models, serving bundle), the feed API serving an A/B experiment, and simulated users
 * scrolling it over HTTP. The personalised arm must beat the trending baseline on watch time per session,
 * with the 95% interval of the lift above zero (users as the unit of randomisation).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDemoSummary } from '../../src/cli/commands/demo.js';
import { CONTROL, runDemo, TREATMENT } from '../../src/demo/demo.js';

const dir = mkdtempSync(join(tmpdir(), 'foryou-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('foryou demo', () => {
  it(
    'serves a personalised arm that beats trending on watch time per session, with the interval above zero',
    async () => {
      const summary = await runDemo({
        dir,
        // Active users (2 sessions a day) give the test power at a small size: about 2,000 sessions per arm.
        users: 1_500,
        items: 1_500,
        sessionsPerDay: 2,
        historyDays: 1.5,
        liveDays: 1,
        retrainHours: 12,
        concurrency: 4,
        seed: 42,
      });
      const report = formatDemoSummary(summary);
      const arms = Object.fromEntries(summary.arms.map((a) => [a.arm, a]));
      expect(arms[TREATMENT]!.sessions, report).toBeGreaterThan(800);
      expect(arms[CONTROL]!.sessions, report).toBeGreaterThan(800);
      // The split follows the configured share.
      const share = arms[TREATMENT]!.users / (arms[TREATMENT]!.users + arms[CONTROL]!.users);
      expect(share, report).toBeGreaterThan(0.4);
      expect(share, report).toBeLessThan(0.6);
      expect(summary.retrains, report).toBe(1);
      expect(summary.liveEvents, report).toBeGreaterThan(5_000);
      expect(summary.watchTime.lift, report).toBeGreaterThan(0);
      expect(summary.watchTime.liftCi[0], report).toBeGreaterThan(0);
      expect(summary.likeRate.lift, report).toBeGreaterThan(0);
      expect(report).toMatch(/watch time per session: .* lift .*95% CI/);
    },
    15 * 60_000,
  );
});
