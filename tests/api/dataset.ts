/**
 * The fixed dataset the API tests query: a few posts per feature under test, written as batch files
 * (with a replayed duplicate in a second batch file, a deleted post, a back-dated post, identities with
 * a handle change and enrichment scores from two models).
 */
import { deleteRow, identityRow, postRow, uriOf, writeRows, type PostSpec } from './fixture.js';

export const ALICE = 'did:plc:alice';
export const BOB = 'did:plc:bob';
export const CAROL = 'did:plc:carol';

export const POSTS: Record<string, PostSpec> = {
  p1: { did: ALICE, rkey: 'p1', text: 'Hello World from Alice', at: '2025-01-10T10:05:00Z', langs: ['en'], hashtags: ['News'], hasMedia: true },
  p2: { did: ALICE, rkey: 'p2', text: 'hello world, lowercase', at: '2025-01-10T10:10:00Z', langs: ['en-US'] },
  p3: { did: BOB, rkey: 'p3', text: '50% off_sale today \\ backslash', at: '2025-01-10T10:20:00Z', langs: ['de'], hashtags: ['sale'] },
  p4: { did: BOB, rkey: 'p4', text: '5000 off sale (Hello Worlds)', at: '2025-01-10T10:30:00Z', langs: ['de'] },
  p5: { did: CAROL, rkey: 'p5', text: 'Worldwide news', at: '2025-01-10T11:00:00Z', replyTo: uriOf(ALICE, 'p1'), langs: ['en'] },
  p6: { did: CAROL, rkey: 'p6', text: 'ñandú corre; añandú no. Hello World!', at: '2025-01-10T11:30:00Z', langs: ['es'], hasMedia: true },
  p7: { did: ALICE, rkey: 'p7', text: 'deleted post hello', at: '2025-01-10T12:00:00Z' },
  p8: { did: BOB, rkey: 'p8', text: 'dup post', at: '2025-01-10T12:30:00Z' },
  // Back-dated: created the evening before, indexed at 12:45 (lives in the 12:00 partition).
  p9: { did: ALICE, rkey: 'p9', text: 'old memory', at: '2025-01-09T23:00:00Z', indexedAt: '2025-01-10T12:45:00Z' },
  // createdAt in the future: sort_at is indexed_at.
  p10: { did: ALICE, rkey: 'p10', text: 'from the future', at: '2025-01-11T09:00:00Z', indexedAt: '2025-01-10T13:00:00Z' },
  p11: { did: CAROL, rkey: 'p11', text: 'She said "hi", then\nleft,\r\nok "quoted"', at: '2025-01-10T13:10:00Z' },
};

export const uri = (key: string) => uriOf(POSTS[key]!.did, POSTS[key]!.rkey);

/** Writes the dataset under `parquetDir`. */
export async function writeDataset(parquetDir: string): Promise<void> {
  const rows = Object.values(POSTS).map(postRow);
  await writeRows(parquetDir, 'posts', rows);
  // A replay: p8 again in another batch file.
  await writeRows(parquetDir, 'posts', [postRow(POSTS.p8!)]);
  await writeRows(parquetDir, 'deletes', [deleteRow(ALICE, 'p7', '2025-01-10T12:05:00Z')]);
  await writeRows(parquetDir, 'identities', [
    identityRow(ALICE, 'alice.test', '2025-01-01T00:00:00Z'),
    identityRow(BOB, 'bobby.test', '2025-01-01T00:00:00Z'),
    identityRow(BOB, 'bob.test', '2025-01-05T00:00:00Z', 2),
  ]);
  await writeRows(parquetDir, 'post_features', [
    { uri: uri('p1'), toxicity_score: 0.9, political_score: 0.1, model: 'm1', scored_at: '2025-01-12T00:00:00Z' },
    { uri: uri('p2'), toxicity_score: 0.5, political_score: 0.6, model: 'm1', scored_at: '2025-01-12T00:00:00Z' },
    { uri: uri('p3'), toxicity_score: 0.85, political_score: 0.2, model: 'm1', scored_at: '2025-01-12T00:00:00Z' },
    // Re-sent scores for p3 replace the old toxicity; another model adds a Perspective score.
    { uri: uri('p3'), toxicity_score: 0.2, model: 'm1', scored_at: '2025-01-13T00:00:00Z' },
    { uri: uri('p5'), perspective_insult: 0.7, model: 'perspective', scored_at: '2025-01-12T00:00:00Z' },
  ]);
}
