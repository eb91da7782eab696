/**
 * The local stand-in for the OpenFaaS cron-connector: fires each cron function on its schedule with
 * the connector's request shape (POST, empty body, X-Topic / X-Connector headers). Schedules are UTC;
 * 5 fields as the connector takes them, or 6 with seconds first (handy for tests).
 */
import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../../shared/log.js';

export const CRON_HEADERS = { 'X-Topic': 'cron-function', 'X-Connector': 'cron-connector' } as const;

/** Throws a readable error for a schedule cron-parser cannot use. */
export function validateSchedule(expr: string): void {
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new Error(`schedule ${JSON.stringify(expr)} must have 5 fields (or 6 with seconds first)`);
  CronExpressionParser.parse(expr, { tz: 'UTC' });
}

/** The first time strictly after `after` that `expr` matches (UTC). */
export function nextFire(expr: string, after: Date): Date {
  return CronExpressionParser.parse(expr, { currentDate: after, tz: 'UTC' }).next().toDate();
}

export interface CronJob {
  name: string;
  schedule: string;
}

export interface CronScheduler {
  stop(): void;
}

/**
 * Schedules every job; `invoke(name)` is called at each fire time and its outcome logged. Runs of the
 * same job may overlap if one outlasts its period: like the real connector, the function guards itself.
 */
export function startCron(jobs: CronJob[], invoke: (name: string) => Promise<{ status: number; body: string }>, log: Logger): CronScheduler {
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const arm = (job: CronJob, after: Date) => {
    if (stopped) return;
    const at = nextFire(job.schedule, after);
    const timer = setTimeout(() => {
      // Never before `at`, even if the timer fired a little early: the next slot is computed from it.
      arm(job, new Date(Math.max(Date.now(), at.getTime())));
      const started = Date.now();
      log.info({ function: job.name, schedule: job.schedule, at: at.toISOString() }, 'cron: invoking');
      invoke(job.name).then(
        ({ status, body }) => {
          const fields = { function: job.name, status, ms: Date.now() - started, body: body.slice(0, 300) };
          if (status >= 400) log.warn(fields, 'cron: function answered with an error');
          else log.info(fields, 'cron: done');
        },
        (err: unknown) => log.error({ function: job.name, err }, 'cron: invocation failed'),
      );
    }, Math.max(0, at.getTime() - Date.now()));
    timers.set(job.name, timer);
  };
  for (const job of jobs) {
    validateSchedule(job.schedule);
    arm(job, new Date());
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
