import type { StatusEvent } from '../command/deliver.js';
import type { GatewayError } from '../errors.js';

export interface RecentDeadLetter {
  seq: number;
  at: number;
  device: string;
  code: string;
  /** The first schema failure, when there was one. */
  path?: string;
  message: string;
}

export interface RecentCommand {
  seq: number;
  at: number;
  device: string;
  id: string;
  status: string;
  code?: string;
}

const KEEP = 50;

/** The last dead letters and command status events, for the dashboard: bounded rings, numbered so a feed sends each once. */
export class RecentEvents {
  readonly deadLetters: RecentDeadLetter[] = [];
  readonly commands: RecentCommand[] = [];
  #seq = 0;

  deadLetter(device: string, error: GatewayError): void {
    const first = error.errors?.[0];
    const entry: RecentDeadLetter = { seq: ++this.#seq, at: Date.now(), device, code: error.code, message: first?.message ?? error.message };
    if (first) entry.path = first.path;
    push(this.deadLetters, entry);
  }

  command(event: StatusEvent): void {
    const entry: RecentCommand = { seq: ++this.#seq, at: event.at, device: event.device, id: event.id, status: event.status };
    if (event.error) entry.code = event.error.code;
    push(this.commands, entry);
  }

  get seq(): number {
    return this.#seq;
  }

  since(seq: number): { deadLetters: RecentDeadLetter[]; commands: RecentCommand[] } {
    return { deadLetters: this.deadLetters.filter((e) => e.seq > seq), commands: this.commands.filter((e) => e.seq > seq) };
  }
}

function push<T>(ring: T[], entry: T): void {
  ring.push(entry);
  if (ring.length > KEEP) ring.shift();
}
