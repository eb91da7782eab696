/**
 * The request → handler machinery of the `node20-express` template. Production (`index.ts`) and the
 * local gateway both mount the app built here, so a function behaves the same in both.
 */
import express, { type Request, type Response } from 'express';
import { AppError, toErrorResponse } from '../../shared/errors.js';
import type { FunctionContext, FunctionModule } from '../../shared/function-contract.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { collectProcessMetrics, renderMetrics } from '../../shared/metrics.js';
import { buildEvent } from './event.js';
import { functionMetrics } from './metrics.js';
import { sendResult, StreamStartError } from './respond.js';

export interface FunctionAppOptions {
  /** Function name: log name `fn:<name>` and the `function` metric label. */
  name: string;
  log?: Logger;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Abort a request still running after this many ms (0 = never). */
  execTimeoutMs?: number;
}

/** Tracks the requests being worked on so a shutdown can wait for them, or abort them. */
export interface InFlight {
  readonly size: number;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
  /** Aborts every in-flight request's `event.signal`. */
  abortAll(reason: unknown): void;
}

export interface FunctionApp {
  app: express.Express;
  inFlight: InFlight;
}

const STRIPPED_ON_ERROR = new Set(['content-type', 'content-length', 'content-disposition', 'content-encoding']);

function createInFlight(): InFlight & { add(ac: AbortController): () => void } {
  const active = new Set<AbortController>();
  let waiters: Array<() => void> = [];
  return {
    get size() {
      return active.size;
    },
    add(ac) {
      active.add(ac);
      return () => {
        active.delete(ac);
        if (active.size === 0) {
          const w = waiters;
          waiters = [];
          for (const resolve of w) resolve();
        }
      };
    },
    idle() {
      return active.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    abortAll(reason) {
      for (const ac of active) ac.abort(reason);
    },
  };
}

/** Builds the Express app that serves one function module (plus GET /metrics and /_/health). */
export function createFunctionApp(mod: FunctionModule, opts: FunctionAppOptions): FunctionApp {
  const log = opts.log ?? createLogger(`fn:${opts.name}`);
  const metrics = functionMetrics();
  const inFlight = createInFlight();
  collectProcessMetrics();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/_/health', (_req, res) => {
    res.type('text/plain').send('OK');
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await renderMetrics();
    res.setHeader('content-type', contentType);
    res.end(body);
  });

  const raw = express.raw({ type: () => true, limit: opts.maxBodyBytes ?? 1024 * 1024 });
  app.use((req, res, next) => {
    raw(req, res, (err?: unknown) => {
      if (err) {
        const e = err as { status?: number; type?: string; message?: string };
        const status = e.status ?? 400;
        const code = e.type === 'entity.too.large' ? 'payload_too_large' : 'bad_request';
        void runRequest(req, res, () => {
          throw new AppError(code, status === 413 ? `request body exceeds ${opts.maxBodyBytes ?? 1048576} bytes` : 'unreadable request body', status, { cause: err });
        });
        return;
      }
      next();
    });
  });
  app.use((req, res) => {
    void runRequest(req, res, mod.default);
  });

  async function runRequest(req: Request, res: Response, handler: FunctionModule['default']): Promise<void> {
    const started = process.hrtime.bigint();
    const ac = new AbortController();
    const done = inFlight.add(ac);
    metrics.inFlight.inc({ function: opts.name });
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client closed the connection'));
      const code = String(res.statusCode);
      metrics.requests.inc({ function: opts.name, code });
      metrics.duration.observe({ function: opts.name, code }, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.inFlight.dec({ function: opts.name });
      done();
    });
    const timer =
      opts.execTimeoutMs && opts.execTimeoutMs > 0
        ? setTimeout(() => {
            const err = new AppError('timeout', `function did not finish within ${opts.execTimeoutMs} ms`, 504);
            ac.abort(err);
            answerError(err);
          }, opts.execTimeoutMs).unref()
        : undefined;
    res.on('close', () => clearTimeout(timer));

    let answered = false;
    let pending: Promise<void> | undefined;
    const extraHeaders: Record<string, string | number | readonly string[]> = {};
    let status: number | undefined;

    const answerError = (err: unknown) => {
      answered = true;
      const { status: code, body } = toErrorResponse(err);
      const where = { method: req.method, path: req.path, status: code };
      if (code >= 500) log.error({ ...where, err }, 'request failed');
      else log.info({ ...where, code: body.error.code, message: body.error.message }, 'request rejected');
      if (res.headersSent) {
        // Part of the answer is out already: cut the connection so the client sees it incomplete.
        res.destroy(err instanceof Error ? err : undefined);
        return;
      }
      for (const [k, v] of Object.entries(extraHeaders)) if (!STRIPPED_ON_ERROR.has(k)) res.setHeader(k, v);
      res.status(code).json(body);
    };
    const answer = (value: unknown) => {
      answered = true;
      res.status(status ?? 200);
      for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
      pending = sendResult(res, value).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') {
          log.info({ path: req.path }, 'client went away during the answer');
          return;
        }
        answerError(err instanceof StreamStartError ? err.cause : err);
      });
    };

    const context: FunctionContext = {
      status(code) {
        status = code;
        return context;
      },
      headers(values) {
        for (const [k, v] of Object.entries(values)) extraHeaders[k.toLowerCase()] = v;
        return context;
      },
      succeed(value) {
        if (!answered) answer(value);
      },
      fail(err) {
        if (!answered) answerError(err);
      },
    };

    try {
      const event = buildEvent(req, ac.signal);
      const result = await handler(event, context);
      if (!answered) answer(result);
    } catch (err) {
      if (!answered) answerError(err);
      else log.error({ err, path: req.path }, 'handler threw after answering');
    }
    await pending;
  }

  return { app, inFlight };
}
