import type { BenchReport, Outcome } from './results.js';

/** Table cells shared by the report's tables. */
export const fmt = (n: number): string => n.toLocaleString('en-US');
export const pct = (part: number, whole: number): string => (whole === 0 ? '0 %' : `${((part * 100) / whole).toFixed(1)} %`);

/** A peer's outcome as a cell: `show` for a result, else why there is none. */
export function cell<T>(outcome: Outcome | undefined, show: (result: T) => string): string {
  if (!outcome) return '—';
  if ('skipped' in outcome) return 'skipped';
  if ('error' in outcome) return `error: ${outcome.error.split('\n')[0]!.slice(0, 60)}`;
  return show(outcome.result as T);
}

export function labelOf(report: BenchReport, name: string): string {
  return report.peers.find((peer) => peer.name === name)?.label ?? name;
}
