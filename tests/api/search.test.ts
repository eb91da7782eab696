/**
 * search over HTTP (through the node20-express template) on a fixed Parquet dataset: exact result sets
 * for every filter, pagination while data is appended, 400s with code and param for bad input.
 */
import t from 'tap';
import { makeTestEnv } from '../helpers/env.js';
import { ALICE, BOB, CAROL, POSTS, uri, writeDataset } from './dataset.js';
import { get, postRow, serve, uriOf, writeRows } from './fixture.js';

const env = await makeTestEnv(t, { QUERY_INDEX_SLACK_MINUTES: '1440', PAGE_MAX: '100', CORS_ORIGINS: 'https://explorer.example' });
await writeDataset(env.cfg.storage.parquetDir);
const fn = await serve(t, env, 'search');

/** The rkeys (p1, p2, …) of a search answer, in order. */
async function keys(query: Record<string, string>): Promise<string[]> {
  const res = await get(fn.url, query);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`);
  return res.json().data.map((d: { uri: string }) => d.uri.split('/').pop());
}

const ALL_NEWEST = ['p11', 'p10', 'p8', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p9'];

t.test('no filters: every live post once, newest first (deleted p7 absent, replayed p8 once)', async (t) => {
  t.same(await keys({}), ALL_NEWEST);
  t.same(await keys({ sort: 'oldest' }), [...ALL_NEWEST].reverse());
});

t.test('text: case-insensitive substring, % _ \\ literal', async (t) => {
  t.same(await keys({ text: 'hello world' }), ['p6', 'p4', 'p2', 'p1']);
  t.same(await keys({ text: 'HELLO' }), ['p6', 'p4', 'p2', 'p1'], 'the deleted post with hello is not returned');
  t.same(await keys({ text: '50%' }), ['p3'], '% is not a wildcard (p4 has 5000)');
  t.same(await keys({ text: 'off_sale' }), ['p3'], '_ is not a wildcard (p4 has "off sale")');
  t.same(await keys({ text: '\\ back' }), ['p3'], 'backslash is literal');
  t.same(await keys({ text: 'ÑANDÚ' }), ['p6'], 'non-ASCII case folding');
  t.same(await keys({ text: '(HELLO WORLDS)' }), ['p4'], 'regex metacharacters are literal');
  t.same(await keys({ text: '.*' }), [], '.* is two characters, not a pattern');
  t.same(await keys({ text: 'corre; a' }), ['p6'], 'the substring may span words and punctuation');
  t.same(await keys({ text: 'deleted' }), []);
});

t.test('exact=true: phrase, case-sensitive, word boundaries (Unicode-aware)', async (t) => {
  t.same(await keys({ text: 'Hello World', exact: 'true' }), ['p6', 'p1'], 'not p2 (case), not p4 (Worlds)');
  t.same(await keys({ text: 'hello world', exact: 'true' }), ['p2']);
  t.same(await keys({ text: 'ñandú', exact: 'true' }), ['p6']);
  t.same(await keys({ text: 'andú', exact: 'true' }), [], 'inside a word is no match');
  t.same(await keys({ text: 'andú' }), ['p6'], 'while the substring search finds it');
  t.same(await keys({ text: '50%', exact: 'true' }), ['p3']);
  t.same(await keys({ text: 'off_sale', exact: 'true' }), ['p3']);
  t.same(await keys({ text: 'off', exact: 'true' }), ['p4'], 'off_sale is one word');
});

t.test('username: handle, @handle, DID; unknown → 404', async (t) => {
  const alice = ['p10', 'p2', 'p1', 'p9'];
  t.same(await keys({ username: 'alice.test' }), alice);
  t.same(await keys({ username: '@alice.test' }), alice);
  t.same(await keys({ username: 'Alice.Test' }), alice);
  t.same(await keys({ username: ALICE }), alice);
  t.same(await keys({ username: 'bob.test' }), ['p8', 'p4', 'p3']);
  t.same(await keys({ username: CAROL }), ['p11', 'p6', 'p5'], 'a DID without any identity event');
  for (const u of ['nobody.test', 'bobby.test']) {
    const res = await get(fn.url, { username: u });
    t.equal(res.status, 404, `${u} is unknown (bobby.test is bob's old handle)`);
    t.same(res.json(), { error: { code: 'unknown_username', message: res.json().error.message, param: 'username' } });
  }
  const handles = (await get(fn.url, { username: BOB })).json().data.map((d: { author_handle: string }) => d.author_handle);
  t.same(handles, ['bob.test', 'bob.test', 'bob.test'], 'author_handle is the latest handle');
  const carol = (await get(fn.url, { username: CAROL })).json().data[0];
  t.equal(carol.author_handle, null);
});

t.test('start inclusive, end exclusive on sort_at', async (t) => {
  t.same(await keys({ start: '2025-01-10T10:10:00Z', end: '2025-01-10T11:00:00Z' }), ['p4', 'p3', 'p2']);
  t.same(await keys({ start: '2025-01-10T11:00:00Z', end: '2025-01-10T11:00:00.000001Z' }), ['p5']);
  t.same(await keys({ start: '2025-01-10T12:10:00+02:00', end: '2025-01-10T10:30' }), ['p3', 'p2'], 'offsets and zone-less (UTC) times');
  t.same(await keys({ start: '2025-01-10', end: '2025-01-11' }), ALL_NEWEST.filter((k) => k !== 'p9'));
  t.same(await keys({ start: '2025-01-09', end: '2025-01-10' }), ['p9'], 'a back-dated post found in a later partition (within the slack)');
  t.same(await keys({ start: '2025-01-10T13:00:00Z' }), ['p11', 'p10'], 'future createdAt sorts at indexed_at');
});

t.test('lang, hashtag, has_media, is_reply', async (t) => {
  t.same(await keys({ lang: 'en' }), ['p5', 'p2', 'p1'], 'en matches en-US too');
  t.same(await keys({ lang: 'EN-us' }), ['p2']);
  t.same(await keys({ lang: 'de' }), ['p4', 'p3']);
  t.same(await keys({ hashtag: 'news' }), ['p1']);
  t.same(await keys({ hashtag: '#NEWS' }), ['p1']);
  t.same(await keys({ has_media: 'true' }), ['p6', 'p1']);
  t.same(await keys({ has_media: 'false' }), ALL_NEWEST.filter((k) => k !== 'p6' && k !== 'p1'));
  t.same(await keys({ is_reply: 'true' }), ['p5']);
  t.same(await keys({ is_reply: 'false' }), ALL_NEWEST.filter((k) => k !== 'p5'));
  t.same(await keys({ text: 'hello', username: 'alice.test', lang: 'en' }), ['p2', 'p1'], 'filters combine with AND');
});

t.test('feature_filters and the features object', async (t) => {
  t.same(await keys({ feature_filters: 'toxicity_score>=0.8' }), ['p1'], 'p3 was re-scored to 0.2');
  t.same(await keys({ feature_filters: 'toxicity_score<0.6' }), ['p3', 'p2']);
  t.same(await keys({ feature_filters: 'toxicity_score>=0.1, political_score>0.5' }), ['p2']);
  t.same(await keys({ feature_filters: 'perspective_insult=0.7' }), ['p5']);
  t.same(await keys({ feature_filters: 'toxicity_score>=0.8', text: 'nothing' }), []);
  const data = (await get(fn.url, { username: ALICE })).json().data as { uri: string; features: Record<string, number | null> | null }[];
  const p1 = data.find((d) => d.uri === uri('p1'))!;
  t.equal(p1.features!.toxicity_score, 0.9);
  t.equal(p1.features!.political_score, 0.1);
  t.equal(p1.features!.perspective_insult, null);
  t.equal(data.find((d) => d.uri === uri('p10'))!.features, null, 'unscored post: features null');
});

t.test('the post object', async (t) => {
  const p1 = (await get(fn.url, { text: 'Hello World from' })).json().data[0];
  t.same(
    { ...p1, features: undefined },
    {
      uri: uri('p1'),
      cid: 'bafyp1',
      author_did: ALICE,
      author_handle: 'alice.test',
      text: POSTS.p1!.text,
      created_at: '2025-01-10T10:05:00.000000Z',
      indexed_at: '2025-01-10T10:05:00.000000Z',
      sort_at: '2025-01-10T10:05:00.000000Z',
      langs: ['en'],
      reply_root_uri: null,
      reply_parent_uri: null,
      quote_uri: null,
      embed_type: 'images',
      has_media: true,
      hashtags: ['News'],
      mention_dids: [],
      link_urls: [],
      labels: [],
      features: undefined,
    },
  );
});

t.test('pagination: pages neither skip nor repeat while data is appended', async (t) => {
  const seen: string[] = [];
  const pages: string[][] = [];
  let cursor: string | null | undefined;
  let appended = false;
  do {
    const res = await get(fn.url, { limit: '3', ...(cursor ? { cursor } : {}) });
    t.equal(res.status, 200);
    const body = res.json();
    const page = body.data.map((d: { uri: string }) => d.uri.split('/').pop());
    pages.push(page);
    seen.push(...page);
    cursor = body.meta.next_cursor;
    t.equal(body.meta.count, page.length);
    if (!appended) {
      appended = true;
      // New posts arrive between pages: one newer than everything, one back-dated into the middle.
      await writeRows(env.cfg.storage.parquetDir, 'posts', [
        postRow({ did: BOB, rkey: 'new1', text: 'brand new', at: '2025-01-10T14:00:00Z' }),
        postRow({ did: BOB, rkey: 'new2', text: 'late arrival', at: '2025-01-10T10:12:00Z', indexedAt: '2025-01-10T14:00:00Z' }),
      ]);
    }
  } while (cursor);
  t.same(pages, [
    ['p11', 'p10', 'p8'],
    ['p6', 'p5', 'p4'],
    ['p3', 'new2', 'p2'],
    ['p1', 'p9'],
  ]);
  t.equal(new Set(seen).size, seen.length, 'no post repeated');
  t.same(await keys({ limit: '2' }), ['new1', 'p11'], 'a new first page shows the new post');

  const oldest: string[] = [];
  cursor = undefined;
  do {
    const q: Record<string, string> = { limit: '4', sort: 'oldest' };
    if (cursor) q.cursor = cursor;
    const body = (await get(fn.url, q)).json();
    oldest.push(...body.data.map((d: { uri: string }) => d.uri.split('/').pop()));
    cursor = body.meta.next_cursor;
  } while (cursor);
  t.same(oldest, ['p9', 'p1', 'p2', 'new2', 'p3', 'p4', 'p5', 'p6', 'p8', 'p10', 'p11', 'new1']);
});

t.test('bad parameters: 400 with code and param, never SQL', async (t) => {
  const cursor = (await get(fn.url, { limit: '1' })).json().meta.next_cursor as string;
  const cases: [Record<string, string>, string, string][] = [
    [{ start: '2025-13-01' }, 'invalid_date', 'start'],
    [{ start: 'yesterday' }, 'invalid_date', 'start'],
    [{ end: '2025-02-30' }, 'invalid_date', 'end'],
    [{ end: "2025-01-01'; DROP TABLE posts; --" }, 'invalid_date', 'end'],
    [{ start: '2025-01-02', end: '2025-01-01' }, 'invalid_range', 'end'],
    [{ limit: '0' }, 'invalid_limit', 'limit'],
    [{ limit: '101' }, 'invalid_limit', 'limit'],
    [{ limit: 'abc' }, 'invalid_limit', 'limit'],
    [{ limit: '-1' }, 'invalid_limit', 'limit'],
    [{ limit: '1.5' }, 'invalid_limit', 'limit'],
    [{ limit: '99999999999999999999' }, 'invalid_limit', 'limit'],
    [{ feature_filters: 'foo_score>0.5' }, 'unknown_feature', 'feature_filters'],
    [{ feature_filters: 'toxicity_score>>0.5' }, 'invalid_feature_filter', 'feature_filters'],
    [{ feature_filters: 'toxicity_score' }, 'invalid_feature_filter', 'feature_filters'],
    [{ feature_filters: 'toxicity_score>=abc' }, 'invalid_feature_filter', 'feature_filters'],
    [{ feature_filters: 'toxicity_score>=0.1,' }, 'invalid_feature_filter', 'feature_filters'],
    [{ cursor: 'garbage!' }, 'invalid_cursor', 'cursor'],
    [{ cursor: 'eyJ2IjoyfQ' }, 'invalid_cursor', 'cursor'],
    [{ cursor, text: 'hello' }, 'invalid_cursor', 'cursor'],
    [{ cursor, sort: 'oldest' }, 'invalid_cursor', 'cursor'],
    [{ sort: 'sideways' }, 'invalid_parameter', 'sort'],
    [{ exact: 'yes', text: 'a' }, 'invalid_parameter', 'exact'],
    [{ exact: 'true' }, 'invalid_parameter', 'exact'],
    [{ text: '' }, 'invalid_parameter', 'text'],
    [{ text: '   ' }, 'invalid_parameter', 'text'],
    [{ lang: 'english!' }, 'invalid_parameter', 'lang'],
    [{ has_media: '1' }, 'invalid_parameter', 'has_media'],
    [{ username: 'not a handle!' }, 'invalid_username', 'username'],
    [{ foo: '1' }, 'unknown_parameter', 'foo'],
    [{ granularity: 'day' }, 'unknown_parameter', 'granularity'],
  ];
  for (const [query, code, param] of cases) {
    const res = await get(fn.url, query);
    const body = res.json();
    t.equal(res.status, 400, `${JSON.stringify(query)} → 400`);
    t.equal(body.error.code, code, `${JSON.stringify(query)} → ${code}`);
    t.equal(body.error.param, param);
    t.notMatch(body.error.message, /SELECT|read_parquet|WHERE|\$\d/, 'no SQL in the message');
  }
  const repeated = await get(`${fn.url}/?text=a&text=b`);
  t.equal(repeated.status, 400);
  t.same(repeated.json().error.code, 'repeated_parameter');
  const post = await fetch(fn.url + '/', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  t.equal(post.status, 405);
  t.equal(((await post.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
});

t.test('CORS: allowed origin and preflight', async (t) => {
  const ok = await get(fn.url, { limit: '1' }, { headers: { origin: 'https://explorer.example' } });
  t.equal(ok.headers.get('access-control-allow-origin'), 'https://explorer.example');
  t.match(ok.headers.get('access-control-expose-headers') ?? '', /X-Row-Limit/);
  const other = await get(fn.url, { limit: '1' }, { headers: { origin: 'https://evil.example' } });
  t.equal(other.headers.get('access-control-allow-origin'), null);
  const pre = await fetch(fn.url + '/', {
    method: 'OPTIONS',
    headers: { origin: 'https://explorer.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
  });
  t.equal(pre.status, 204);
  t.equal(pre.headers.get('access-control-allow-origin'), 'https://explorer.example');
  t.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
  t.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
});

t.test('metrics: bsky_api_* counters move', async (t) => {
  const text = await (await fetch(fn.url + '/metrics')).text();
  t.match(text, /bsky_api_requests_total\{function="search",status="200",code="ok"\} \d+/);
  t.match(text, /bsky_api_requests_total\{function="search",status="400",code="invalid_limit"\} \d+/);
  t.match(text, /bsky_api_rows_returned_total\{function="search"\} [1-9]/);
  t.match(text, /bsky_api_scan_bytes_total\{function="search"\} [1-9]/);
  t.match(text, /bsky_api_query_duration_seconds_bucket/);
});

void uriOf;
