import { Fleet } from './fleet.js';
import { formatSummary, LiveStats } from './render-stats.js';
import type { RunOptions } from './run-options.js';
import { summarize, type RunSummary } from './stats.js';

export interface RunIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * Runs the fleet until --duration ends or the user presses Ctrl-C (SIGINT) or
 * sends SIGTERM, then drains and prints the summary: a JSON object on stdout
 * with --json, text otherwise. Live stats go to stderr so stdout stays parseable.
 */
export async function runFleet(options: RunOptions, io: RunIo): Promise<RunSummary> {
  const fleet = new Fleet(options);
  const live = new LiveStats(fleet.stats, { out: io.stderr, unacked: () => fleet.unacked });
  const until = options.durationMs === undefined ? 'Ctrl-C' : `${options.durationMs / 1000}s`;
  io.stderr.write(
    `device-sim: ${fleet.devices.length} devices -> ${options.url}, ${options.ratePerSec}/s each, ` +
      `ramp ${options.rampPerSec}/s, seed ${options.seed}, until ${until}\n`,
  );
  fleet.start();
  live.start();
  const forceExit = (): void => {
    io.stderr.write('device-sim: stopped without a summary\n');
    process.exit(130);
  };
  await stopSignal(options.durationMs);
  // While draining, a second Ctrl-C means "now".
  process.once('SIGINT', forceExit);
  io.stderr.write(`device-sim: stopping; waiting up to ${options.drainMs}ms for ${fleet.unacked} unacked messages\n`);
  await fleet.stop(options.drainMs);
  live.stop();
  process.off('SIGINT', forceExit);
  const summary = summarize(fleet.stats, fleet.unacked, options.seed);
  if (options.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else io.stdout.write(`${formatSummary(summary)}\n`);
  return summary;
}

/** Resolves at the end of the duration or at the first SIGINT/SIGTERM. */
function stopSignal(durationMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = durationMs === undefined ? undefined : setTimeout(done, durationMs);
    function done(): void {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    }
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
