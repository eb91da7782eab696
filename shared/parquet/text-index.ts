/**
 * The token index of a compacted posts generation: beside `.compact/posts.N.pq`, the file
 * `.compact/posts.N.tokens.pq` lists, for each range of rows (one per row group), the distinct tokens of
 * the lower-cased texts in it: `token VARCHAR, lo BIGINT, hi BIGINT` (first and last row number).
 *
 * Why: a substring search for a rare word otherwise reads every post's text of the range (a day: 2.3M
 * texts, ~400 ms). The index is a fraction of that to scan (distinct tokens per row group), and it says
 * which row ranges can hold the word: only those are read (by `file_row_number`, which prunes row groups).
 *
 * Exactness: the index only ever skips ranges that cannot match. A query is looked up by its longest run
 * of ASCII letters, digits and `_` (3 characters at least; `indexPiece`). Any text the case-insensitive
 * search matches contains that run, case-insensitively, inside one maximal run of word characters, which
 * is one token of the lower-cased text. RE2's case folding maps two non-ASCII characters onto ASCII
 * letters that lower() leaves alone or maps elsewhere: the long s `ſ` (folds with `s`) and the Kelvin sign
 * (lower() gives `k`); tokens replace `ſ` by `s`, so both are found. Queries without such a run (`日本`,
 * `a`) and files without an index (batch files of open hours, hours compacted before the index existed)
 * are scanned in full.
 */
import { sqlIdent, sqlString } from '../duckdb.js';

/** Characters of a token: letters, digits and marks of any script, and `_` (as exact-phrase boundaries). */
const TOKEN_PATTERN = '[\\p{L}\\p{N}\\p{M}_]+';

/** The index file of a posts generation file (`….pq` → `….tokens.pq`). */
export function textIndexFile(generationFile: string): string {
  return generationFile.replace(/\.pq$/, '.tokens.pq');
}

/** The SQL expression of a text's tokens (lower-cased, `ſ` as `s`), as a VARCHAR[]. */
export function tokensSql(textExpr: string): string {
  return `regexp_extract_all(replace(lower(${textExpr}), 'ſ', 's'), '${TOKEN_PATTERN}')`;
}

/**
 * COPY statement writing the token index of `column` in `postsFile` to `indexFile`, one range per
 * `rangeRows` rows (the file's row-group size, so a range is a row group).
 */
export function buildTextIndexSql(postsFile: string, column: string, indexFile: string, rangeRows: number, zstdLevel: number): string {
  const rows = Math.trunc(rangeRows);
  return (
    `COPY (SELECT token, min(r)::BIGINT AS lo, max(r)::BIGINT AS hi FROM (` +
    `SELECT file_row_number AS r, unnest(${tokensSql(sqlIdent(column))}) AS token FROM read_parquet(${sqlString(postsFile)}, file_row_number = true)` +
    `) GROUP BY token, r // ${rows} ORDER BY token, lo) TO ${sqlString(indexFile)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${Math.trunc(zstdLevel)})`
  );
}

/** The longest run of ASCII letters, digits and `_` in the lower-cased query (first of equals), if ≥ 3 long. */
export function indexPiece(text: string): string | undefined {
  let best = '';
  for (const m of text.toLowerCase().matchAll(/[a-z0-9_]+/g)) if (m[0].length > best.length) best = m[0];
  return best.length >= 3 ? best : undefined;
}
