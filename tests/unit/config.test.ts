import t from 'tap';
import path from 'node:path';
import { ConfigError, describeSettings, loadConfig } from '../../shared/config/index.js';

t.test('defaults apply when nothing is set', async (t) => {
  const cfg = loadConfig({});
  t.equal(cfg.redis.url, 'redis://127.0.0.1:6379');
  t.equal(cfg.redis.prefix, 'bsky:');
  t.equal(cfg.storage.dataDir, path.resolve('./data'));
  t.equal(cfg.storage.parquetDir, path.join(path.resolve('./data'), 'parquet'));
  t.same(cfg.ingest.jetstreamUrls, ['wss://jetstream2.us-east.bsky.network/subscribe']);
  t.same(cfg.ingest.wantedCollections, []);
  t.equal(cfg.api.pageDefault, 50);
  t.equal(cfg.api.rowLimitEnabled, true);
  t.equal(cfg.api.handleResolverUrl, undefined);
});

t.test('values are converted to their types', async (t) => {
  const cfg = loadConfig({
    DATA_DIR: '/tmp/x',
    PARQUET_DIR: '/srv/pq',
    ROW_LIMIT_ENABLED: 'off',
    ROW_LIMIT: '25',
    JETSTREAM_URL: 'ws://a/subscribe, ws://b/subscribe',
    WANTED_COLLECTIONS: 'app.bsky.feed.post,app.bsky.graph.*',
    HANDLE_RESOLVER_URL: 'https://public.api.bsky.app',
  });
  t.equal(cfg.storage.parquetDir, '/srv/pq');
  t.equal(cfg.storage.quarantineDir, '/tmp/x/quarantine');
  t.equal(cfg.api.rowLimitEnabled, false);
  t.equal(cfg.api.rowLimit, 25);
  t.same(cfg.ingest.jetstreamUrls, ['ws://a/subscribe', 'ws://b/subscribe']);
  t.same(cfg.ingest.wantedCollections, ['app.bsky.feed.post', 'app.bsky.graph.*']);
  t.equal(cfg.api.handleResolverUrl, 'https://public.api.bsky.app');
});

t.test('every bad variable is named with what it got and what it expects', async (t) => {
  const err = t.throws(() =>
    loadConfig({ ROW_LIMIT: '10x', REDIS_URL: 'http://nope', LOG_LEVEL: 'loud', DUCKDB_MEMORY_LIMIT: 'lots', JETSTREAM_URL: 'http://x' }),
  ) as unknown as ConfigError;
  t.type(err, ConfigError);
  t.same(
    err.problems.map((p) => p.env).sort(),
    ['DUCKDB_MEMORY_LIMIT', 'JETSTREAM_URL', 'LOG_LEVEL', 'REDIS_URL', 'ROW_LIMIT'],
  );
  const rowLimit = err.problems.find((p) => p.env === 'ROW_LIMIT');
  t.same(rowLimit, { env: 'ROW_LIMIT', got: '10x', expects: 'an integer >= 1' });
  t.match(err.message, /LOG_LEVEL="loud": expected one of debug, info, warn, error, silent/);
});

t.test('cross-field checks: PAGE_DEFAULT may not exceed PAGE_MAX', async (t) => {
  const err = t.throws(() => loadConfig({ PAGE_DEFAULT: '100', PAGE_MAX: '20' })) as unknown as ConfigError;
  t.same(err.problems, [{ env: 'PAGE_DEFAULT', got: '100', expects: 'at most PAGE_MAX (20)' }]);
});

t.test('describeSettings lists every variable once with its default', async (t) => {
  const docs = describeSettings();
  const names = docs.map((d) => d.env);
  t.equal(new Set(names).size, names.length, 'no duplicates');
  t.ok(names.includes('REDIS_URL') && names.includes('HANDLE_RESOLVER_URL') && names.includes('GATEWAY_PORT'));
  t.equal(docs.find((d) => d.env === 'ROW_LIMIT')?.default, '1000');
});
