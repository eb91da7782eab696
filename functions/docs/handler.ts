/**
 * The `docs` function: the interactive API page at /function/docs and the OpenAPI 3.1 document at
 * /function/docs/openapi.json, generated from shared/api/routes.ts (logic in shared/openapi).
 */
import { createDocsFunction } from '../../shared/openapi/function.js';

const fn = createDocsFunction();

export const init = fn.init;
export const destroy = fn.destroy;
export default fn.default;
