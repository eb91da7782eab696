import { EnvReader, type SettingDoc } from './env-reader.js';
import { readApi } from './sections/api.js';
import { readDuckdb } from './sections/duckdb.js';
import { readIngest } from './sections/ingest.js';
import { readPipeline } from './sections/pipeline.js';
import { readRedis } from './sections/redis.js';
import { readRuntime } from './sections/runtime.js';
import { readStorage } from './sections/storage.js';

export { ConfigError, type SettingDoc, type SettingProblem } from './env-reader.js';

function read(r: EnvReader) {
  return {
    runtime: readRuntime(r),
    storage: readStorage(r),
    redis: readRedis(r),
    ingest: readIngest(r),
    pipeline: readPipeline(r),
    duckdb: readDuckdb(r),
    api: readApi(r),
  };
}

/** The whole system's configuration: one typed object, validated at boot. */
export type Config = ReturnType<typeof read>;

/**
 * Reads and validates every setting. Throws a ConfigError naming each bad variable, the value it had
 * and what was expected. `env` defaults to process.env; tests pass their own.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const r = new EnvReader(env);
  const cfg = read(r);
  r.assertValid();
  return cfg;
}

/** Every environment variable the system reads, with its default and meaning (for the README). */
export function describeSettings(): SettingDoc[] {
  const r = new EnvReader({});
  read(r);
  return r.docs;
}
