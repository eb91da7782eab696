import tap from 'tap';
import {
  EVENT_COLUMNS,
  FEATURE_COLUMNS,
  FIREHOSE_TABLES,
  TABLE_NAMES,
  TABLES,
  columnNames,
  createTableSql,
  getColumn,
  isTableName,
} from '../../shared/tables/index.js';

tap.test('every table is defined once, with consistent keys', async (t) => {
  t.same(Object.keys(TABLES), [...TABLE_NAMES]);
  for (const table of Object.values(TABLES)) {
    const names = columnNames(table.name);
    t.equal(new Set(names).size, names.length, `${table.name}: unique column names`);
    for (const k of [...table.dedupeKey, ...table.sortKey, table.timeColumn]) t.ok(names.includes(k), `${table.name}: key column ${k} exists`);
    for (const c of table.columns) {
      t.match(c.name, /^[a-z][a-z0-9_]*$/, `${table.name}.${c.name} is snake_case`);
      t.ok(c.description.length > 5, `${table.name}.${c.name} has a description`);
      if (table.source === 'firehose') t.ok(c.sql, `${table.name}.${c.name} has a projection`);
    }
  }
  t.same(
    FIREHOSE_TABLES.map((x) => x.name),
    ['posts', 'likes', 'reposts', 'follows', 'blocks', 'profiles', 'records', 'deletes', 'identities', 'accounts'],
  );
  t.equal(isTableName('posts'), true);
  t.equal(isTableName('events'), false);
});

tap.test('the issue\'s columns are all there, timestamps are TIMESTAMPTZ', async (t) => {
  t.same(columnNames('posts').filter((c) => !['rev', 'operation'].includes(c)), [
    'uri', 'cid', 'author_did', 'rkey', 'text', 'created_at', 'indexed_at', 'sort_at', 'langs', 'reply_root_uri',
    'reply_parent_uri', 'quote_uri', 'embed_type', 'has_media', 'hashtags', 'mention_dids', 'link_urls', 'labels', 'record',
  ]);
  for (const tn of ['likes', 'reposts'] as const) {
    for (const c of ['uri', 'author_did', 'subject_uri', 'subject_cid', 'created_at', 'indexed_at']) t.ok(getColumn(tn, c), `${tn}.${c}`);
  }
  for (const tn of ['follows', 'blocks'] as const) {
    for (const c of ['uri', 'author_did', 'subject_did', 'created_at', 'indexed_at']) t.ok(getColumn(tn, c), `${tn}.${c}`);
  }
  // The columns, plus rev (what a delete follows) and uri_key (the API's lookup key).
  t.same(columnNames('deletes').filter((c) => c !== 'rev' && c !== 'uri_key'), ['uri', 'collection', 'author_did', 'rkey', 'indexed_at']);
  t.same(columnNames('deletes').slice(0, 2), ['uri', 'uri_key']);
  for (const c of ['collection', 'author_did', 'rkey', 'operation', 'record', 'indexed_at']) t.ok(getColumn('records', c), `records.${c}`);
  for (const c of ['did', 'handle', 'seq', 'indexed_at']) t.ok(getColumn('identities', c), `identities.${c}`);
  for (const c of ['did', 'active', 'status', 'seq', 'indexed_at']) t.ok(getColumn('accounts', c), `accounts.${c}`);
  for (const c of ['display_name', 'description', 'author_did', 'indexed_at']) t.ok(getColumn('profiles', c), `profiles.${c}`);
  for (const table of Object.values(TABLES)) {
    for (const c of table.columns) if (/_at$/.test(c.name) || c.name === 'event_time') t.equal(c.type, 'TIMESTAMPTZ', `${table.name}.${c.name}`);
  }
  t.equal(getColumn('posts', 'author_did')?.dictionary, true);
});

tap.test('post_features: the score columns are the feature list, in [0, 1]', async (t) => {
  t.same(
    FEATURE_COLUMNS.map((c) => c.name),
    [
      'political_score', 'toxicity_score', 'perspective_toxicity', 'perspective_severe_toxicity',
      'perspective_identity_attack', 'perspective_insult', 'perspective_profanity', 'perspective_threat',
    ],
  );
  for (const c of FEATURE_COLUMNS) {
    t.same(c.feature, { min: 0, max: 1 });
    t.equal(c.type, 'DOUBLE');
  }
  t.same(columnNames('post_features').slice(-2), ['model', 'scored_at']);
  t.equal(createTableSql(TABLES.post_features, 'pf'), `CREATE TABLE "pf" ("uri" VARCHAR, "uri_key" UBIGINT, "political_score" DOUBLE, "toxicity_score" DOUBLE, "perspective_toxicity" DOUBLE, "perspective_severe_toxicity" DOUBLE, "perspective_identity_attack" DOUBLE, "perspective_insult" DOUBLE, "perspective_profanity" DOUBLE, "perspective_threat" DOUBLE, "model" VARCHAR, "scored_at" TIMESTAMPTZ)`);
});

tap.test('projections only use the events relation\'s columns', async (t) => {
  t.same(
    EVENT_COLUMNS.map((c) => c.name),
    ['stream_id', 'did', 'time_us', 'kind', 'operation', 'collection', 'rkey', 'rev', 'cid', 'record', 'identity', 'account', 'indexed_at'],
  );
});
