import { ConfigError, type GatewayError } from '../errors.js';

/** What a CLI action hands back: exit code 0 with data, or 1 with a coded error. */
export function printResult(json: boolean, error: GatewayError | undefined, data: unknown, human: () => string): void {
  if (error) {
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    else process.stderr.write(`error: ${error.code}: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human()}\n`);
}

/** Config problems exit 2 with the message alone; anything else is a bug and keeps its stack. */
export function exitOnError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
