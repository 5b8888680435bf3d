/** Where a command for a device can be written: one live connection's send. */
export interface CommandSink {
  /** False when the socket was closing and nothing was written. */
  send(frame: object): boolean;
}

/**
 * Which process holds a device's socket. With one gateway process the answer is
 * this process or nobody; a multi-process implementation (Redis) would hand a
 * command to the process that holds the socket.
 */
export interface DeviceRoute {
  /** The connection a command should go to now (the device's newest), or undefined when offline. */
  find(device: string): CommandSink | undefined;
}
