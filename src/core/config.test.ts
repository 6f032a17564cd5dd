import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempFile } from '../../test/helpers/index.js';
import { CONFIG_ENV_VARS, loadConfig } from './config.js';
import { ForyouError } from './errors.js';

function refusal(fn: () => unknown): ForyouError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ForyouError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

const configFile = (content: string) => tempFile('foryou.config.json', content);

describe('loadConfig', () => {
  it('fills every default when nothing is given', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({
      dataDir: '.foryou',
      seed: 42,
      logLevel: 'info',
      http: { host: '127.0.0.1', port: 8080 },
      log: {
        url: 'file://.foryou/log',
        fsync: 'always',
        fsyncIntervalMs: 100,
        segmentBytes: 64 * 1024 * 1024,
        dedupWindow: 1_000_000,
        retentionBytes: 0,
        retentionHours: 0,
      },
      ingest: { maxBodyBytes: 16 * 1024 * 1024, maxBatchEvents: 10_000 },
      lake: { dir: '.foryou/lake' },
      store: { url: 'lmdb://.foryou/store' },
    });
  });

  it('puts the embedded log, lake and store under a given data folder unless they are placed elsewhere', () => {
    const config = loadConfig({ env: { FORYOU_DATA_DIR: '/srv/foryou/' } });
    expect(config.log.url).toBe('file:///srv/foryou/log');
    expect(config.lake.dir).toBe('/srv/foryou/lake');
    expect(config.store.url).toBe('lmdb:///srv/foryou/store');
    const placed = loadConfig({
      env: {
        FORYOU_DATA_DIR: '/srv/foryou',
        FORYOU_LOG_URL: 'nats://127.0.0.1:4222',
        FORYOU_LAKE_DIR: '/data/lake',
      },
    });
    expect(placed.log.url).toBe('nats://127.0.0.1:4222');
    expect(placed.lake.dir).toBe('/data/lake');
    expect(placed.store.url).toBe('lmdb:///srv/foryou/store');
  });

  it('layers file < environment < overrides', () => {
    const file = configFile(JSON.stringify({ seed: 1, http: { port: 9000, host: '0.0.0.0' } }));
    const config = loadConfig({
      file,
      env: { FORYOU_SEED: '2', FORYOU_HTTP_PORT: '9001' },
      overrides: { seed: 3 },
    });
    expect(config.seed).toBe(3);
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9001 });
  });

  it('reads the file named by FORYOU_CONFIG', () => {
    const file = configFile(JSON.stringify({ store: { url: 'redis://127.0.0.1:6379' } }));
    expect(loadConfig({ env: { FORYOU_CONFIG: file } }).store.url).toBe('redis://127.0.0.1:6379');
  });

  it('refuses a bad environment value and names the variable', () => {
    const error = refusal(() => loadConfig({ env: { FORYOU_HTTP_PORT: '80a' } }));
    expect(error.code).toBe('FY_CONFIG_INVALID');
    expect(error.message).toContain('FORYOU_HTTP_PORT="80a" must be a whole number');
  });

  it('refuses an out-of-range value and says where it came from', () => {
    const error = refusal(() => loadConfig({ env: { FORYOU_HTTP_PORT: '70000' } }));
    expect(error.message).toContain(
      'http.port must be between 0 and 65535 (from environment variable FORYOU_HTTP_PORT)',
    );
  });

  it('refuses an unknown FORYOU_* variable, which is usually a typo', () => {
    const error = refusal(() => loadConfig({ env: { FORYOU_STORE_ULR: 'lmdb://x' } }));
    expect(error.message).toContain('FORYOU_STORE_ULR is not a Foryou setting');
  });

  it('refuses a backend URL with an unsupported scheme', () => {
    const error = refusal(() => loadConfig({ env: { FORYOU_STORE_URL: 'postgres://localhost' } }));
    expect(error.message).toContain('store.url the online store URL must start with lmdb:// or redis://');
  });

  it('refuses unknown keys and bad values in the file, all at once', () => {
    const file = configFile(JSON.stringify({ seeed: 1, logLevel: 'loud' }));
    const error = refusal(() => loadConfig({ file, env: {} }));
    expect(error.message).toContain(`seeed is not a config key (config file ${file})`);
    expect(error.message).toContain('logLevel must be one of fatal, error, warn, info, debug, trace, silent');
  });

  it('refuses a file that is not JSON, or missing', () => {
    expect(refusal(() => loadConfig({ file: configFile('{ seed: 1'), env: {} })).code).toBe(
      'FY_CONFIG_FILE_UNREADABLE',
    );
    expect(refusal(() => loadConfig({ file: configFile('[1]'), env: {} })).message).toContain(
      'must hold a JSON object',
    );
    expect(refusal(() => loadConfig({ file: '/nonexistent/foryou.json', env: {} })).code).toBe(
      'FY_CONFIG_FILE_UNREADABLE',
    );
  });

  it('documents exactly the environment variables it reads in docs/config.md', () => {
    const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\|\s*`(FORYOU_[A-Z_]+)`\s*\|\s*`([a-zA-Z.]+)`\s*\|$/gm)].map(
      (m) => [m[1], m[2]],
    );
    expect(Object.fromEntries(documented)).toEqual(
      Object.fromEntries(Object.entries(CONFIG_ENV_VARS).map(([name, spec]) => [name, spec.key])),
    );
  });
});
