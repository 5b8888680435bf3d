// Child side of guess-flood.ts: fires every guess at once and reports each answer.
import { tryConnect } from './try-connect.js';
import type { Guess } from './guess-flood.js';

process.once('message', (message: { url: string; guesses: Guess[] }) => {
  for (const guess of message.guesses) {
    void tryConnect(message.url, guess.username, guess.password, { from: guess.from }).then((outcome) => process.send!(outcome));
  }
});
