/**
 * One LMDB store shared by two processes: this test process and a child (fixtures/lmdb-peer.ts) open the
 * same folder; both read at the same time, each sees what the other commits, writes from both are
 * serialised by LMDB's own lock, and a reader in one process never sees half of a putMany from the other.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LmdbKeyValueStore } from '../../src/store/lmdb-store.js';
import { tempDir } from '../helpers/index.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'lmdb-peer.ts');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));
const texts = (values: (Uint8Array | null)[]) => values.map((v) => (v === null ? null : decoder.decode(v)));

/** The child process, answering one command at a time. */
class Peer {
  private readonly waiting: ((reply: Record<string, unknown>) => void)[] = [];
  readonly ready: Promise<Record<string, unknown>>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`peer exited with ${code}`)));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.waiting.shift()?.(JSON.parse(line)));
  }

  static start(dir: string): Peer {
    return new Peer(
      spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
  }

  async send(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = new Promise<Record<string, unknown>>((resolve) => this.waiting.push(resolve));
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    const answer = await reply;
    if (answer.error) throw new Error(`peer failed: ${answer.error}`);
    return answer;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send({ op: 'close' });
    this.child.stdin!.end();
    await exited;
  }
}

function values(keys: string[]) {
  return keys.map((key) => ({ key, value: encoder.encode(`v:${key}`) }));
}

describe('one LMDB store, two processes', () => {
  let dir: string;
  let store: LmdbKeyValueStore;
  let peer: Peer;

  beforeEach(async () => {
    dir = join(tempDir('foryou-kv-2p-'), 'store');
    store = await LmdbKeyValueStore.open(dir);
    peer = Peer.start(dir);
    const ready = await peer.ready;
    expect(ready.pid).not.toBe(process.pid);
  });

  afterEach(async () => {
    await peer.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets both processes read the same values at the same time', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `fv:item_stats@v3:i${i}`);
    await store.putMany(values(keys));
    const childReads = peer.send({ op: 'readLoop', keys, ms: 400 });
    let parentReads = 0;
    let parentWrong = 0;
    const startedAt = Date.now();
    const until = startedAt + 400;
    while (Date.now() < until) {
      const got = texts(await store.getMany(keys));
      parentReads++;
      got.forEach((v, i) => {
        if (v !== `v:${keys[i]}`) parentWrong++;
      });
      await yieldToLoop();
    }
    const endedAt = Date.now();
    const child = await childReads;
    // The two reading spells overlapped in time.
    expect(Math.max(startedAt, child.startedAt as number)).toBeLessThan(
      Math.min(endedAt, child.endedAt as number),
    );
    expect(child.wrong).toBe(0);
    expect(parentWrong).toBe(0);
    expect(child.reads).toBeGreaterThan(5);
    expect(parentReads).toBeGreaterThan(5);
  });

  it('shows each process what the other committed, once its putMany resolved', async () => {
    await peer.send({ op: 'put', entries: [{ key: 'from:child', value: 'hello from the child' }] });
    expect(texts([await store.get('from:child')])).toEqual(['hello from the child']);

    await store.putMany([{ key: 'from:parent', value: encoder.encode('hello from the parent') }]);
    expect((await peer.send({ op: 'get', keys: ['from:parent', 'from:child', 'absent'] })).values).toEqual([
      'hello from the parent',
      'hello from the child',
      null,
    ]);

    // Overwrites and deletes travel the same way.
    await store.putMany([{ key: 'from:child', value: encoder.encode('overwritten by the parent') }]);
    await store.deleteMany(['from:parent']);
    expect((await peer.send({ op: 'get', keys: ['from:child', 'from:parent'] })).values).toEqual([
      'overwritten by the parent',
      null,
    ]);

    // An expiry written by one process is honoured by the other.
    // (The TTL leaves room for a slow commit and round trip on a busy machine.)
    await store.putMany([{ key: 'short', value: encoder.encode('brief'), ttlMs: 1_500 }]);
    expect((await peer.send({ op: 'get', keys: ['short'] })).values).toEqual(['brief']);
    await new Promise((resolve) => setTimeout(resolve, 1_700));
    expect((await peer.send({ op: 'get', keys: ['short'] })).values).toEqual([null]);
  });

  it('shows a commit to the other process on its very next read, every time, both ways', async () => {
    // Without a fresh read snapshot per call most of these reads missed the write (lmdb-store.ts). Each
    // direction runs on its own: a process's own commit refreshes its snapshot and would hide the fault.
    const missed: string[] = [];
    for (let i = 0; i < 100; i++) {
      await store.putMany([{ key: `p2c:${i}`, value: encoder.encode(String(i)) }]);
      const [seen] = (await peer.send({ op: 'get', keys: [`p2c:${i}`] })).values as (string | null)[];
      if (seen !== String(i)) missed.push(`parent->child ${i}`);
    }
    for (let i = 0; i < 100; i++) {
      await peer.send({ op: 'put', entries: [{ key: `c2p:${i}`, value: String(i) }] });
      if (texts([await store.get(`c2p:${i}`)])[0] !== String(i)) missed.push(`child->parent ${i}`);
    }
    expect(missed).toEqual([]);
  });

  it('serialises writers from both processes through the LMDB lock, losing nothing', async () => {
    const child = peer.send({ op: 'writeLoop', prefix: 'child', batches: 40, size: 25 });
    for (let b = 0; b < 40; b++)
      await store.putMany(values(Array.from({ length: 25 }, (_, k) => `parent:b${b}:k${k}`)));
    await child;
    const all = ['child', 'parent'].flatMap((p) =>
      Array.from({ length: 1000 }, (_, i) => `${p}:b${Math.floor(i / 25)}:k${i % 25}`),
    );
    const expected = all.map((key) => `v:${key}`);
    expect(texts(await store.getMany(all))).toEqual(expected);
    expect((await peer.send({ op: 'get', keys: all })).values).toEqual(expected);
  });

  it('never shows a reader in one process half of a putMany from the other', async () => {
    await store.putMany([
      { key: 'pair:a', value: encoder.encode('0') },
      { key: 'pair:b', value: encoder.encode('0') },
    ]);
    const reader = peer.send({ op: 'pairLoop', ms: 500 });
    let version = 0;
    const until = Date.now() + 450;
    while (Date.now() < until) {
      version++;
      await store.putMany([
        { key: 'pair:a', value: encoder.encode(String(version)) },
        { key: 'pair:b', value: encoder.encode(String(version)) },
      ]);
    }
    const result = await reader;
    expect(result.differ).toBe(0);
    // The child did watch the pair change while it read.
    expect(result.versions).toBeGreaterThan(2);
  });
});
