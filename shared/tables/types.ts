/** The DuckDB types our tables use (also the Parquet schema: DuckDB maps them one to one). */
export type ColumnType = 'VARCHAR' | 'VARCHAR[]' | 'BIGINT' | 'UBIGINT' | 'BOOLEAN' | 'DOUBLE' | 'TIMESTAMPTZ' | 'JSON';

export const TABLE_NAMES = [
  'posts',
  'likes',
  'reposts',
  'follows',
  'blocks',
  'profiles',
  'records',
  'deletes',
  'identities',
  'accounts',
  'post_features',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** A score column of post_features: a number in [min, max] (the API's feature_filters, enrich validation). */
export interface FeatureRange {
  min: number;
  max: number;
}

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** What the column holds, for the API field list, the OpenAPI document and the README. */
  description: string;
  /**
   * DuckDB expression computing the column from the flush's `events` relation (see EVENT_COLUMNS).
   * Absent for tables not produced by the flush (post_features).
   */
  sql?: string;
  /** Few distinct values (DIDs, collections, languages): dictionary encoding pays off. */
  dictionary?: boolean;
  /** Set on enrichment score columns. */
  feature?: FeatureRange;
  /**
   * Computed from the row's other columns whenever a file is written (enrich, compaction), never taken
   * from input: SQL over the row alias given (see writtenColumnsSql). Files written before the column
   * existed get it at their hour's next compaction.
   */
  derived?: (row: string) => string;
}

export interface TableDef {
  name: TableName;
  description: string;
  /** `firehose`: written by the flush from stream events; `enrichment`: imported by the enrich function. */
  source: 'firehose' | 'enrichment';
  /** SQL condition over the `events` relation selecting this table's events (firehose tables only). */
  where?: string;
  columns: readonly ColumnDef[];
  /** Two rows with equal values here are the same fact (a replay); compaction keeps one. */
  dedupeKey: readonly string[];
  /** When duplicates differ, keep the row with the greatest value of this column (else any one: they are equal). */
  dedupeKeepLatest?: string;
  /** Order of rows in compacted files (and in batch files): clusters what queries filter on. */
  sortKey: readonly string[];
  /** The time column the API filters and orders on. */
  timeColumn: string;
  /**
   * The API reads single rows of this table by file and row number (a search page): its compacted files
   * use the smaller PARQUET_POINT_ROW_GROUP_SIZE, so such a read decodes one small row group, not an hour.
   */
  pointReads?: boolean;
  /** The column the API's text search reads: compaction writes a token index of it (shared/parquet/text-index.ts). */
  searchText?: string;
}
