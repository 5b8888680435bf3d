import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const DELIVER = 'wmg:signal:deliver';
const TAKEOVER = 'wmg:signal:takeover';

export interface TakeoverSignal {
  device: string;
  node: string;
  /** When the new connection was admitted (its node's clock): older ones elsewhere are closed. */
  at: number;
}

export interface SignalHandlers {
  /** A command for the device may be waiting: the node holding its newest connection delivers it. */
  deliver(device: string): void;
  /** The device connected on another node under `takeover`: close older local connections. */
  takeover(signal: TakeoverSignal): void;
}

/**
 * Nudges between nodes over Redis pub/sub. They carry no state (that is in Redis' keys),
 * only "look again": a lost nudge delays a command until the device's next connection or
 * the next command, and never loses one.
 */
export class ClusterSignals {
  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly log: Logger,
  ) {}

  static async start(pub: Redis, sub: Redis, handlers: SignalHandlers, log: Logger): Promise<ClusterSignals> {
    sub.on('message', (channel: string, message: string) => {
      try {
        if (channel === DELIVER) handlers.deliver(message);
        else if (channel === TAKEOVER) handlers.takeover(JSON.parse(message) as TakeoverSignal);
      } catch (err) {
        log.error('cluster signal failed', { code: 'internal_error', channel, error: (err as Error).stack });
      }
    });
    await sub.subscribe(DELIVER, TAKEOVER);
    return new ClusterSignals(pub, sub, log);
  }

  deliver(device: string): void {
    this.#publish(DELIVER, device);
  }

  takeover(signal: TakeoverSignal): void {
    this.#publish(TAKEOVER, JSON.stringify(signal));
  }

  #publish(channel: string, message: string): void {
    // A nudge that cannot be sent is the lost-nudge case above; the data is safe in Redis.
    this.pub.publish(channel, message).catch((err: Error) => this.log.warn('cluster signal not sent', { code: 'store_unavailable', channel, error: err.message }));
  }

  async stop(): Promise<void> {
    await this.sub.unsubscribe(DELIVER, TAKEOVER);
  }
}
