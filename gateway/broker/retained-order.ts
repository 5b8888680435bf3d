import type { Aedes } from 'aedes';

interface Counted {
  brokerCounter: number;
}

/**
 * aedes numbers every publish when it is made (brokerCounter) and drops, per client,
 * a publish whose number is not above the last one it forwarded (its duplicate check
 * across brokers). A retained publish is stored before it is forwarded, which takes
 * longer than a plain one: a telemetry made after a device's state then reaches a
 * subscriber first, and the state, already acked, was silently dropped (found by
 * test/fuzz-frames). Numbering a retained publish again once it is stored puts it
 * back in the order it is forwarded in.
 */
export function keepRetainedInOrder(aedes: Aedes): void {
  const broker = aedes as unknown as { counter: number; persistence: { storeRetained(packet: Counted): Promise<void> } };
  const { persistence } = broker;
  const storeRetained = persistence.storeRetained.bind(persistence);
  persistence.storeRetained = async (packet: Counted) => {
    await storeRetained(packet);
    packet.brokerCounter = ++broker.counter;
  };
}
