/**
 * `feature_filters=toxicity_score>=0.8,political_score<0.3`: comparisons on post_features columns.
 * Feature names are checked against the table definition (they become quoted identifiers in SQL);
 * the numbers are bound as parameters.
 */
import { BadRequestError } from '../errors.js';

export const FEATURE_OPS = ['<=', '>=', '<', '>', '='] as const;
export type FeatureOp = (typeof FEATURE_OPS)[number];

export interface FeatureFilter {
  feature: string;
  op: FeatureOp;
  value: number;
}

const COMPARISON = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>|=)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/;

/** Parses the comma-separated list; `known` is the list of feature columns. */
export function parseFeatureFilters(text: string, known: readonly string[]): FeatureFilter[] {
  const parts = text.split(',');
  if (parts.length > 20) throw new BadRequestError('invalid_feature_filter', 'feature_filters: at most 20 comparisons', 'feature_filters');
  return parts.map((part) => {
    const m = COMPARISON.exec(part);
    if (!m) {
      throw new BadRequestError(
        'invalid_feature_filter',
        `feature_filters: malformed comparison "${clip(part.trim())}"; expected <feature><op><number> with op one of < <= > >= =`,
        'feature_filters',
      );
    }
    const feature = m[1]!;
    if (!known.includes(feature)) {
      throw new BadRequestError('unknown_feature', `feature_filters: unknown feature "${clip(feature)}"; known: ${known.join(', ')}`, 'feature_filters');
    }
    const value = Number(m[3]);
    if (!Number.isFinite(value)) {
      throw new BadRequestError('invalid_feature_filter', `feature_filters: "${clip(m[3]!)}" is not a finite number`, 'feature_filters');
    }
    return { feature, op: m[2] as FeatureOp, value };
  });
}

function clip(s: string): string {
  return s.length > 64 ? s.slice(0, 61) + '...' : s;
}
