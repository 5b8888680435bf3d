// Child side of guess-flood.ts: fires every guess at once and reports, for each,
// when its CONNECT went out and what the broker answered.
import type { Guess, FloodReport } from './guess-flood.js';
import { mqttClient, settleConnect } from './try-connect.js';

const report = (message: FloodReport): void => void process.send!(message);

process.once('message', (message: { url: string; guesses: Guess[] }) => {
  for (const guess of message.guesses) {
    const client = mqttClient(message.url, guess.username, guess.password, { from: guess.from });
    // mqtt.js queues its CONNECT on the socket at once; it leaves once TCP is up.
    client.stream.once('connect', () => report({ sent: true }));
    void settleConnect(client).then((outcome) => report({ outcome }));
  }
});
