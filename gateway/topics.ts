// Device ids become MQTT topic levels: '+', '#' or '/' would let one device
// publish into another's topics, so ids are checked here, before any topic is built.
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidDeviceId(id: unknown): id is string {
  return typeof id === 'string' && DEVICE_ID.test(id);
}

export const DEVICE_ID_RULE = 'device ids match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const DEAD_LETTER_ROOT = 'gateway/deadletter';

export interface Topics {
  telemetry(device: string): string;
  state(device: string): string;
  presence(device: string): string;
  deadLetter(device: string): string;
  commandStatus(device: string, command: string): string;
  /** The device a backend addresses by publishing on {root}/{device}/commands, if the topic is one. */
  commandTarget(topic: string): string | undefined;
  desiredStatus(device: string): string;
  twin(device: string): string;
  /** The device a backend addresses by publishing on {root}/{device}/desired/set, if the topic is one. */
  desiredTarget(topic: string): string | undefined;
  /** Topic filters only the gateway itself may publish to, whatever a user's ACL says. */
  gatewayOnly: readonly string[];
}

export function topicsFor(root: string): Topics {
  const prefix = `${root}/`;
  return {
    telemetry: (device) => `${root}/${device}/telemetry`,
    state: (device) => `${root}/${device}/state`,
    presence: (device) => `${root}/${device}/presence`,
    deadLetter: (device) => `${DEAD_LETTER_ROOT}/${device}`,
    commandStatus: (device, command) => `${root}/${device}/commands/${command}/status`,
    commandTarget: (topic) => deviceLevel(topic, prefix, '/commands'),
    desiredStatus: (device) => `${root}/${device}/desired/status`,
    twin: (device) => `${root}/${device}/twin`,
    desiredTarget: (topic) => deviceLevel(topic, prefix, '/desired/set'),
    gatewayOnly: [
      `${root}/+/telemetry`,
      `${root}/+/state`,
      `${root}/+/presence`,
      `${root}/+/commands/+/status`,
      `${root}/+/desired/status`,
      `${root}/+/twin`,
      'gateway/#',
    ],
  };
}

// The {device} of {prefix}{device}{suffix}, when it is exactly one topic level.
function deviceLevel(topic: string, prefix: string, suffix: string): string | undefined {
  if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return undefined;
  const device = topic.slice(prefix.length, -suffix.length);
  return device.length > 0 && !device.includes('/') ? device : undefined;
}
