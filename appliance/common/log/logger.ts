/**
 * @module common/log/logger
 * The one logger: JSON lines on stdout (journald on the image) with the fields
 * `time level svc id component reqId msg`. Child loggers per component; debug output
 * enabled by namespace through OIO_DEBUG (e.g. `OIO_DEBUG=meta2:*`).
 */
import { writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink { write(line: string): void }

/**
 * stdout, one write per event-loop turn: a file or a pipe (journald) is written synchronously
 * by Node, and a busy node logs an access line per request. What is still pending when the
 * process exits (even on an uncaught exception) is written then.
 */
function stdoutSink(): LogSink {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    bytes = 0;
    process.stdout.write(text);
  };
  process.on('exit', () => {
    if (pending.length === 0) return;
    try { writeSync(1, pending.join('')); } catch { /* stdout gone */ }
    pending = [];
  });
  return {
    write(line) {
      pending.push(line);
      bytes += line.length;
      if (bytes >= 64 * 1024) flush();
      else if (!scheduled) { scheduled = true; setImmediate(flush); }
    },
  };
}

let sink: LogSink = stdoutSink();
let minLevel: number = LEVELS[(process.env.OIO_LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVELS.info;
const debugPatterns = (process.env.OIO_DEBUG ?? '').split(',').filter(Boolean)
  .map((p) => new RegExp('^' + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$'));

/** The last lines this process logged, kept in memory for the admin console (`oio node logs`). */
const RING_SIZE = 2000;
const ring: string[] = [];
let ringNext = 0;

/** The last `n` log lines of this process (JSON, oldest first), at most 2,000. */
export function recentLogLines(n = RING_SIZE): string[] {
  const ordered = ring.length < RING_SIZE ? ring : [...ring.slice(ringNext), ...ring.slice(0, ringNext)];
  return ordered.slice(Math.max(0, ordered.length - n));
}

/** Redirects all log output (tests, CLI). */
export function setLogSink(s: LogSink): void { sink = s; }
export function setLogLevel(level: LogLevel): void { minLevel = LEVELS[level]; }

export class Logger {
  constructor(private readonly fields: Record<string, unknown>) {}

  child(fields: Record<string, unknown>): Logger {
    const merged: Record<string, unknown> = { ...this.fields, ...fields };
    if (this.fields.component && fields.component) merged.component = `${String(this.fields.component)}:${String(fields.component)}`;
    return new Logger(merged);
  }

  private enabled(level: LogLevel): boolean {
    if (LEVELS[level] >= minLevel) return true;
    if (level !== 'debug' || debugPatterns.length === 0) return false;
    const ns = [this.fields.svc, this.fields.component].filter(Boolean).join(':');
    return debugPatterns.some((re) => re.test(ns));
  }

  log(level: LogLevel, msg: string, extra?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, ...this.fields, msg };
    if (extra) {
      for (const [k, v] of Object.entries(extra)) {
        rec[k] = v instanceof Error ? { code: (v as { code?: unknown }).code, message: v.message, stack: v.stack } : v;
      }
    }
    const line = JSON.stringify(rec);
    if (ring.length < RING_SIZE) ring.push(line); else ring[ringNext] = line;
    ringNext = (ringNext + 1) % RING_SIZE;
    sink.write(line + '\n');
  }

  debug(msg: string, extra?: Record<string, unknown>): void { this.log('debug', msg, extra); }
  info(msg: string, extra?: Record<string, unknown>): void { this.log('info', msg, extra); }
  warn(msg: string, extra?: Record<string, unknown>): void { this.log('warn', msg, extra); }
  error(msg: string, extra?: Record<string, unknown>): void { this.log('error', msg, extra); }
}

export const rootLogger = new Logger({});
