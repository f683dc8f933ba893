/**
 * @module cli/output
 * Human tables in the style of the `openio` CLI (`| Field | Value |` boxes), `--format json`
 * for scripts, and a progress bar for large transfers (on a TTY only).
 */
import { formatSize } from '../common';

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** whether err is a terminal (progress bars) */
  isTTY?: boolean;
  /**
   * false in the SSH admin console: commands may not read or write the host's files
   * (FILE arguments, --file, --data, stdin/stdout streaming are refused with NOT_ALLOWED)
   */
  localFiles?: boolean;
}

export type Format = 'table' | 'json' | 'value';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A boxed table: columns and rows. */
export function table(columns: string[], rows: unknown[][]): string {
  const text = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line, fmt(columns), line, ...text.map(fmt), line].join('\n') + '\n';
}

/** One record as Field/Value rows (`openio ... show`). */
export function showRecord(io: CliIO, format: Format, rec: Record<string, unknown>): void {
  if (format === 'json') { io.out(JSON.stringify(rec, null, 2) + '\n'); return; }
  if (format === 'value') { io.out(Object.values(rec).map(cell).join('\n') + '\n'); return; }
  io.out(table(['Field', 'Value'], Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** A list of records as a table. */
export function showList(io: CliIO, format: Format, columns: string[], rows: Array<Record<string, unknown>>): void {
  if (format === 'json') { io.out(JSON.stringify(rows, null, 2) + '\n'); return; }
  if (format === 'value') { io.out(rows.map((r) => columns.map((c) => cell(r[c])).join(' ')).join('\n') + (rows.length ? '\n' : '')); return; }
  io.out(table(columns, rows.map((r) => columns.map((c) => r[c]))));
}

/** A progress bar on stderr for transfers of known size; no-op when not a TTY. */
export function progressBar(io: CliIO, label: string, total: number | undefined): { update(n: number): void; done(): void } {
  if (!io.isTTY || !total || total < 8 * 1024 * 1024) return { update() {}, done() {} };
  const started = Date.now();
  let last = 0;
  const draw = (n: number) => {
    const ratio = Math.min(1, n / total);
    const width = 30;
    const full = Math.round(ratio * width);
    const rate = n / Math.max(0.001, (Date.now() - started) / 1000);
    io.err(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${formatSize(n)}/${formatSize(total)} ${formatSize(rate)}/s `);
  };
  return {
    update(n) { const now = Date.now(); if (now - last > 100) { last = now; draw(n); } },
    done() { draw(total); io.err('\n'); },
  };
}
