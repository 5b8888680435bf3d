#!/usr/bin/env node
import { Command } from 'commander';
import { demoIntro, DEV_GATEWAY_URL, prepareDemo } from '../device-sim/demo.js';
import { parseCount, parseDuration } from '../device-sim/parse-units.js';
import { provisionDevices } from '../device-sim/provision.js';
import { checkRunFlags, type RawRunFlags } from '../device-sim/run-options.js';
import { runFleet } from '../device-sim/run.js';
import type { SimError } from '../device-sim/sim-errors.js';

// Flags -> checked options -> one call. Nothing else lives here.
const io = { stdout: process.stdout, stderr: process.stderr };

function exitWith(error: SimError): never {
  process.stderr.write(`device-sim: ${error.message} (${error.code})\n`);
  process.exit(2);
}

const program = new Command('device-sim')
  .description('A fleet of simulated sensors for ws-mqtt-gateway: demos, tests and load')
  .showHelpAfterError();

program
  .command('provision')
  .description('add N devices to the gateway registry and write their tokens to a file (mode 0600)')
  .requiredOption('--count <n>', 'number of devices')
  .option('--prefix <prefix>', 'device id prefix; ids are prefix0001, prefix0002...', 'sim-')
  .option('--model <model>', 'device model (env-sensor, tracker, meter)', 'env-sensor')
  .option('--data-dir <dir>', "the gateway's data dir", './data')
  .option('--out <file>', 'tokens file to write', 'tokens.json')
  .action(async (flags: { count: string; prefix: string; model: string; dataDir: string; out: string }) => {
    const count = parseCount(flags.count);
    if (!count.ok) exitWith(count.error);
    const report = await provisionDevices({ ...flags, count: count.value });
    if (!report.ok) exitWith(report.error);
    process.stderr.write(
      `device-sim: ${report.value.created} devices added, ${report.value.kept} already in ${flags.out}; ` +
        `${report.value.devices.length} tokens in ${flags.out}\n`,
    );
  });

program
  .command('run')
  .description('connect the devices in a tokens file and send telemetry until --duration or Ctrl-C')
  .requiredOption('--url <url>', 'gateway device endpoint, e.g. wss://127.0.0.1:8443/v1/device')
  .option('--tokens <file>', 'tokens file from `device-sim provision`', 'tokens.json')
  .option('--devices <n>', 'use the first N devices of the tokens file (default: all)')
  .option('--rate <rate>', 'readings per device, e.g. 1/s, 10/min', '1/s')
  .option('--ramp <rate>', 'new connections per second while starting, e.g. 200/s', '200/s')
  .option('--duration <time>', 'stop after e.g. 60s, 5m (default: run until Ctrl-C)')
  .option('--drain <time>', 'at the end, wait this long for outstanding acks', '5s')
  .option('--seed <n>', 'seed for the readings; the same seed gives the same series')
  .option('--invalid-rate <p>', 'fraction of readings made schema-invalid, e.g. 0.01', '0')
  .option('--drop-rate <p>', 'chance that a device drops its connection after a send', '0')
  .option('--insecure', "accept the gateway's self-signed dev certificate (never on by default)")
  .option('--json', 'print the final summary as one JSON object on stdout')
  .action(async (flags: RawRunFlags) => {
    const options = checkRunFlags(flags);
    if (!options.ok) exitWith(options.error);
    await runFleet(options.value, io);
    process.exit(0);
  });

program
  .command('demo')
  .description('provision 10 demo devices into the local data dir and run them against the dev gateway (`npm start`)')
  .option('--data-dir <dir>', "the gateway's data dir", './data')
  .option('--url <url>', 'gateway device endpoint', DEV_GATEWAY_URL)
  .option('--duration <time>', 'stop after e.g. 60s (default: run until Ctrl-C)')
  .option('--json', 'print the final summary as one JSON object on stdout')
  .action(async (flags: { dataDir: string; url: string; duration?: string; json?: boolean }) => {
    const duration = flags.duration === undefined ? undefined : parseDuration(flags.duration);
    if (duration && !duration.ok) exitWith(duration.error);
    process.stderr.write(demoIntro(flags.dataDir));
    const options = await prepareDemo({ dataDir: flags.dataDir, url: flags.url, durationMs: duration?.value, json: flags.json === true });
    if (!options.ok) exitWith(options.error);
    await runFleet(options.value, io);
    process.exit(0);
  });

await program.parseAsync();
