/** Where a command for a device can be written: one live connection's send. */
export interface CommandSink {
  /** False when the socket was closing and nothing was written. */
  send(frame: object): boolean;
}

/**
 * Where a command for a device goes: its newest connection, if this process holds it.
 * In a cluster the newest may be on another node, which then delivers.
 */
export interface DeviceRoute {
  /** The connection a command should go to now (the device's newest), or undefined when it is not here. */
  find(device: string): Promise<CommandSink | undefined>;
  /** A command was queued for the device: the process holding its newest connection, if another, delivers it. */
  queued(device: string): void;
}
