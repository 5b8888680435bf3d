import { fork } from 'node:child_process';
import type { ConnectOutcome } from './try-connect.js';

export interface Guess {
  username: string;
  password: string;
  from?: string;
}

/** What the child reports: a CONNECT written to its socket, or the broker's answer to one. */
export type FloodReport = { sent: true } | { outcome: ConnectOutcome };

export interface GuessFlood {
  /** Every answer; rejects if they are not all in within `deadlineMs`. */
  outcomes: Promise<ConnectOutcome[]>;
  /** Resolves once every CONNECT is on the wire: all guesses are in flight. */
  allSent: Promise<void>;
  /** Guesses not answered yet. */
  pending(): number;
  stop(): void;
}

/**
 * Fires all `guesses` at once from a separate process, as an attacker would: 300
 * mqtt.js clients in the test process cost it enough event-loop time to blur the
 * gateway's own timings.
 */
export function guessFlood(url: string, guesses: Guess[], deadlineMs = 20_000): GuessFlood {
  const child = fork(new URL('./guess-flood-child.js', import.meta.url));
  const answers: ConnectOutcome[] = [];
  let sent = 0;
  let markAllSent!: () => void;
  const allSent = new Promise<void>((resolve) => (markAllSent = resolve));
  const outcomes = new Promise<ConnectOutcome[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${guesses.length - answers.length} guesses unanswered after ${deadlineMs} ms`)), deadlineMs);
    child.on('message', (report: FloodReport) => {
      if ('sent' in report) {
        if (++sent === guesses.length) markAllSent();
        return;
      }
      answers.push(report.outcome);
      if (answers.length === guesses.length) {
        clearTimeout(timer);
        resolve(answers);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (answers.length < guesses.length) reject(new Error(`guess flood exited (${code}) with ${answers.length} answers`));
    });
  });
  // Until a test awaits it, a rejection must not count as unhandled.
  outcomes.catch(() => {});
  child.send({ url, guesses });
  return {
    outcomes,
    // A guess whose socket fails before its CONNECT is never sent; its answer still comes.
    allSent: Promise.race([allSent, outcomes.then(() => {})]),
    pending: () => guesses.length - answers.length,
    stop: () => child.kill(),
  };
}
