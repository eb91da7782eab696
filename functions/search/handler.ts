/**
 * The `search` function (GET /function/search): see functions/README.md for its parameters. The logic lives in
 * shared/api; this module only wires it to the OpenFaaS handler contract.
 */
import { createApiFunction } from '../../shared/api/function.js';

const fn = createApiFunction('search');

export const init = fn.init;
export const destroy = fn.destroy;
export default fn.default;
