/**
 * The `export` function (GET /function/export): see functions/README.md for its parameters. The logic lives in
 * shared/api; this module only wires it to the OpenFaaS handler contract.
 */
import { createApiFunction } from '../../shared/api/function.js';

const fn = createApiFunction('export');

export const init = fn.init;
export const destroy = fn.destroy;
export default fn.default;
