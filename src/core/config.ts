import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ForyouError } from './errors.js';

/** A URL whose scheme picks the adapter (see ARCHITECTURE.md, "Storage ports and adapters"). */
function adapterUrl(what: string, schemes: readonly string[]) {
  return z
    .string({ error: 'must be a string' })
    .refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
      error: `${what} must start with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    });
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;

const positiveInt = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .positive({ error: 'must be > 0' });

export const ConfigSchema = z.strictObject({
  /** Where embedded stores, the lake and artifacts live unless their own URLs say otherwise. */
  dataDir: z.string().min(1, { error: 'must not be empty' }).default('.foryou'),
  /** Seed for everything random that Foryou does on its own (simulation, splits, training). */
  seed: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be >= 0' }).default(42),
  logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  http: z
    .strictObject({
      host: z.string().min(1, { error: 'must not be empty' }).default('127.0.0.1'),
      port: z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number' })
        .min(0, { error: 'must be between 0 and 65535' })
        .max(65535, { error: 'must be between 0 and 65535' })
        .default(8080),
    })
    .prefault({}),
  log: z
    .strictObject({
      url: adapterUrl('the event log URL', ['file', 'nats']).default('file://.foryou/log'),
      /** Embedded log only: when appends are acknowledged (see docs/event-log.md). */
      fsync: z
        .enum(FSYNC_POLICIES, { error: `must be one of ${FSYNC_POLICIES.join(', ')}` })
        .default('always'),
      fsyncIntervalMs: positiveInt.default(100),
      segmentBytes: positiveInt.min(4096, { error: 'must be at least 4096' }).default(64 * 1024 * 1024),
      /** Newest ids per topic remembered for duplicate detection (embedded); JetStream uses a time window. */
      dedupWindow: positiveInt.default(1_000_000),
      /** Drop the oldest data past this many bytes per topic; 0 keeps everything. */
      retentionBytes: z.number().int().min(0).default(0),
      /** Drop data older than this many hours; 0 keeps everything. */
      retentionHours: z.number().min(0).default(0),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      /** Largest request body accepted by POST /v1/events, /v1/items and /v1/users. */
      maxBodyBytes: positiveInt.default(16 * 1024 * 1024),
      /** Most records in one request. */
      maxBatchEvents: positiveInt.default(10_000),
    })
    .prefault({}),
  lake: z
    .strictObject({ dir: z.string().min(1, { error: 'must not be empty' }).default('.foryou/lake') })
    .prefault({}),
  store: z
    .strictObject({
      url: adapterUrl('the online store URL', ['lmdb', 'redis']).default('lmdb://.foryou/store'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

type EnvKind = 'string' | 'int';

/** Every environment variable Foryou reads, and the config key it sets. docs/config.md lists the same table. */
export const CONFIG_ENV_VARS: Readonly<Record<string, { key: string; kind: EnvKind }>> = {
  FORYOU_DATA_DIR: { key: 'dataDir', kind: 'string' },
  FORYOU_SEED: { key: 'seed', kind: 'int' },
  FORYOU_LOG_LEVEL: { key: 'logLevel', kind: 'string' },
  FORYOU_HTTP_HOST: { key: 'http.host', kind: 'string' },
  FORYOU_HTTP_PORT: { key: 'http.port', kind: 'int' },
  FORYOU_LOG_URL: { key: 'log.url', kind: 'string' },
  FORYOU_LOG_FSYNC: { key: 'log.fsync', kind: 'string' },
  FORYOU_LOG_RETENTION_HOURS: { key: 'log.retentionHours', kind: 'int' },
  FORYOU_STORE_URL: { key: 'store.url', kind: 'string' },
  FORYOU_INGEST_MAX_BODY_BYTES: { key: 'ingest.maxBodyBytes', kind: 'int' },
  FORYOU_INGEST_MAX_BATCH_EVENTS: { key: 'ingest.maxBatchEvents', kind: 'int' },
  FORYOU_LAKE_DIR: { key: 'lake.dir', kind: 'string' },
};

/** Names the config file; read by `loadConfig`, not a config key itself. */
export const CONFIG_FILE_ENV_VAR = 'FORYOU_CONFIG';

export interface LoadConfigOptions {
  /** Path of a JSON config file; when absent, FORYOU_CONFIG is used, and without it no file is read. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags; they win over the file and the environment. */
  overrides?: ConfigInput;
}

type Source = Record<string, unknown>;

/**
 * With a `dataDir` given, the embedded stores that were not given a place of their own live under it (the
 * log in `<dataDir>/log`, the lake in `<dataDir>/lake`, the online store in `<dataDir>/store`), as the
 * artifacts always do; without one the schema's defaults put them under `.foryou`.
 */
function placeUnderDataDir(input: Source): void {
  const dataDir = input.dataDir;
  if (typeof dataDir !== 'string' || dataDir === '') return;
  const dir = dataDir.replace(/\/+$/, '') || '/';
  const unset = (section: string, key: string) => {
    const value = input[section];
    return !(value && typeof value === 'object' && key in (value as Source));
  };
  if (unset('log', 'url')) setPath(input, 'log.url', `file://${dir}/log`);
  if (unset('lake', 'dir')) setPath(input, 'lake.dir', `${dir}/lake`);
  if (unset('store', 'url')) setPath(input, 'store.url', `lmdb://${dir}/store`);
}

function setPath(target: Source, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Source;
  }
  node[keys.at(-1) as string] = value;
}

function merge(into: Source, from: Source): Source {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      existing &&
      typeof existing === 'object'
    )
      merge(existing as Source, value as Source);
    else into[key] = value;
  }
  return into;
}

function readConfigFile(path: string): Source {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ForyouError('FY_CONFIG_FILE_UNREADABLE', `cannot read config file ${path}`, {
      cause,
      details: { path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ForyouError(
      'FY_CONFIG_FILE_UNREADABLE',
      `config file ${path} is not valid JSON: ${(cause as Error).message}`,
      {
        cause,
        details: { path },
      },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ForyouError('FY_CONFIG_FILE_UNREADABLE', `config file ${path} must hold a JSON object`, {
      details: { path },
    });
  return parsed as Source;
}

/**
 * Builds the configuration from defaults, then the file, then FORYOU_* variables, then overrides, and refuses
 * (throws FY_CONFIG_INVALID) on any bad value, naming where that value came from. Unknown FORYOU_* variables
 * are refused too: a misspelt variable would otherwise be silently ignored.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env[CONFIG_FILE_ENV_VAR];
  const origins = new Map<string, string>();
  const problems: string[] = [];

  const fromFile = file ? readConfigFile(file) : {};
  if (file) for (const key of Object.keys(fromFile)) origins.set(key, `config file ${file}`);

  const fromEnv: Source = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('FORYOU_') || name === CONFIG_FILE_ENV_VAR || raw === undefined) continue;
    const spec = CONFIG_ENV_VARS[name];
    if (!spec) {
      problems.push(`${name} is not a Foryou setting (known: ${Object.keys(CONFIG_ENV_VARS).join(', ')})`);
      continue;
    }
    origins.set(spec.key, `environment variable ${name}`);
    if (spec.kind === 'int') {
      if (!/^-?\d+$/.test(raw.trim())) {
        problems.push(`${name}=${JSON.stringify(raw)} must be a whole number`);
        continue;
      }
      setPath(fromEnv, spec.key, Number(raw));
    } else setPath(fromEnv, spec.key, raw);
  }

  const input = merge(merge(merge({}, fromFile), fromEnv), (options.overrides ?? {}) as Source);
  placeUnderDataDir(input);
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k].join('.')) : null;
      if (keys) {
        for (const key of keys)
          problems.push(`${key} is not a config key (${origins.get(key.split('.')[0] ?? '') ?? 'input'})`);
        continue;
      }
      const key = issue.path.join('.');
      const origin = origins.get(key) ?? origins.get(String(issue.path[0])) ?? 'command-line option';
      problems.push(`${key} ${issue.message} (from ${origin})`);
    }
  }
  if (problems.length > 0)
    throw new ForyouError('FY_CONFIG_INVALID', `refusing to start: ${problems.join('; ')}`, {
      details: { problems },
    });
  return result.data as Config;
}
