import { fork } from 'node:child_process';
import type { ConnectOutcome } from './try-connect.js';

export interface Guess {
  username: string;
  password: string;
  from?: string;
}

export interface GuessFlood {
  /** Every answer; rejects if they are not all in within `deadlineMs`. */
  outcomes: Promise<ConnectOutcome[]>;
  /** Guesses not answered yet. */
  pending(): number;
  /** Resolves with the first answer: the guesses have reached the broker. */
  firstAnswer: Promise<void>;
  stop(): void;
}

/**
 * Fires all `guesses` at once from a separate process, as an attacker would: 300
 * mqtt.js clients cost the test process enough event-loop time to blur what the
 * gateway's own timings are.
 */
export function guessFlood(url: string, guesses: Guess[], deadlineMs = 20_000): GuessFlood {
  const child = fork(new URL('./guess-flood-child.js', import.meta.url));
  const answers: ConnectOutcome[] = [];
  let answered!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  const outcomes = new Promise<ConnectOutcome[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${guesses.length - answers.length} guesses unanswered after ${deadlineMs} ms`)), deadlineMs);
    child.on('message', (outcome: ConnectOutcome) => {
      answers.push(outcome);
      answered();
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
  return { outcomes, pending: () => guesses.length - answers.length, firstAnswer, stop: () => child.kill() };
}
