/**
 * The `counts` function (GET /function/counts): see functions/README.md for its parameters. The logic lives in
 * shared/api; this module only wires it to the OpenFaaS handler contract.
 */
import { createApiFunction } from '../../shared/api/function.js';

const fn = createApiFunction('counts');

export const init = fn.init;
export const destroy = fn.destroy;
export default fn.default;
