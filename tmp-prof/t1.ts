import { makeTestEnv } from '../tests/helpers/env.js';
import { writeDataset } from '../tests/api/dataset.js';
import { get, serve } from '../tests/api/fixture.js';
import t from 'tap';
const env = await makeTestEnv(t, { ROW_LIMIT_ENABLED: 'false', QUERY_INDEX_SLACK_MINUTES: '1440', EXPORT_SLICE_ROWS: '3' });
await writeDataset(env.cfg.storage.parquetDir);
const fn = await serve(t, env, 'export');
const r = await get(fn.url, { has_media: 'true' });
console.log(r.status, JSON.stringify(r.text.slice(0, 3000))); process.exit(0);
