import type { ColumnDef, TableDef } from './types.js';
import { uriKeyColumn } from './uri-key.js';

function score(name: string, description: string): ColumnDef {
  return { name, type: 'DOUBLE', description: `${description} In [0, 1]; NULL when not scored.`, feature: { min: 0, max: 1 } };
}

/** Scores imported by the enrich function; joined to posts on uri at query time. */
export const postFeatures: TableDef = {
  name: 'post_features',
  description: 'Per-post model scores imported by the enrich function (joined to posts on uri).',
  source: 'enrichment',
  columns: [
    { name: 'uri', type: 'VARCHAR', description: 'URI of the scored post.' },
    uriKeyColumn(),
    score('political_score', 'How political the post is.'),
    score('toxicity_score', 'Overall toxicity.'),
    score('perspective_toxicity', 'Perspective API TOXICITY.'),
    score('perspective_severe_toxicity', 'Perspective API SEVERE_TOXICITY.'),
    score('perspective_identity_attack', 'Perspective API IDENTITY_ATTACK.'),
    score('perspective_insult', 'Perspective API INSULT.'),
    score('perspective_profanity', 'Perspective API PROFANITY.'),
    score('perspective_threat', 'Perspective API THREAT.'),
    { name: 'model', type: 'VARCHAR', dictionary: true, description: 'Name and version of the model that produced the scores.' },
    { name: 'scored_at', type: 'TIMESTAMPTZ', description: 'When the scores were computed.' },
  ],
  dedupeKey: ['uri', 'model'],
  dedupeKeepLatest: 'scored_at',
  sortKey: ['uri'],
  timeColumn: 'scored_at',
};
