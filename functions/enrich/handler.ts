/**
 * The `enrich` function (POST /function/enrich): imports model scores (NDJSON or CSV) into `post_features`.
 * Input format in functions/README.md; the logic lives in shared/enrich.
 */
import { createEnrichFunction } from '../../shared/enrich/function.js';

const fn = createEnrichFunction();

export const init = fn.init;
export const destroy = fn.destroy;
export default fn.default;
