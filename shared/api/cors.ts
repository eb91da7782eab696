/**
 * CORS for the frontend's origins (CORS_ORIGINS; `*` for any). Simple requests get
 * Access-Control-Allow-Origin (and the headers a browser may read); a preflight (OPTIONS with
 * Access-Control-Request-Method) also gets the allowed methods and headers.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Response headers the API lets browser code read. */
export const EXPOSED_HEADERS = ['Content-Disposition', 'X-Row-Limit', 'X-Row-Limit-Reached', 'X-Took-Ms'];

export function corsHeaders(allowed: readonly string[], reqHeaders: IncomingHttpHeaders, method: string): Record<string, string> {
  const origin = typeof reqHeaders.origin === 'string' ? reqHeaders.origin : undefined;
  if (!origin) return {};
  const any = allowed.includes('*');
  if (!any && !allowed.includes(origin)) return {};
  const out: Record<string, string> = {
    'access-control-allow-origin': any ? '*' : origin,
    'access-control-expose-headers': EXPOSED_HEADERS.join(', '),
  };
  if (!any) out.vary = 'Origin';
  if (method === 'OPTIONS') {
    out['access-control-allow-methods'] = 'GET, HEAD, OPTIONS';
    const asked = reqHeaders['access-control-request-headers'];
    out['access-control-allow-headers'] = typeof asked === 'string' && /^[A-Za-z0-9 ,_-]{0,500}$/.test(asked) ? asked : 'Content-Type';
    out['access-control-max-age'] = '600';
  }
  return out;
}
