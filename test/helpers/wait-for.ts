/**
 * Polls until `condition` holds; fails the test with `what` after timeoutMs.
 * For state a test cannot await directly (fleet counters, MQTT tallies).
 */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
