#!/usr/bin/env node
import { Command, Option } from 'commander';
import { devicesCommand } from '../gateway/cli/devices.js';
import { startCommand } from '../gateway/cli/start.js';
import { usersCommand } from '../gateway/cli/users.js';

const program = new Command('ws-mqtt-gateway').description('IoT device gateway: device WebSockets to MQTT').showHelpAfterError();

const common = (command: Command): Command =>
  command
    .option('--config <file>', 'config file (JSON, or YAML by .yml/.yaml)')
    .option('--data-dir <dir>', 'registry and dev certificate directory (default ./data)');

common(program.command('start').description('run the gateway'))
  .option('--host <host>', 'bind address for all listeners (default 127.0.0.1)')
  .option('--ws-port <n>', 'device WSS port, 0 = ephemeral (default 8443)')
  .option('--mqtt-port <n>', 'MQTT port, 0 = ephemeral (default 1883)')
  .option('--http-port <n>', 'HTTP /healthz port, 0 = ephemeral (default 8080)')
  .option('--dev', 'create/use a self-signed certificate in the data dir')
  .option('--tls-offload', 'serve devices plain ws:// because a proxy in front terminates TLS (never expose it directly)')
  .option('--json', 'print the bound addresses as one JSON line')
  .option('--workers <n>', 'gateway processes sharing the ports on this host, or auto (one per CPU); more than 1 needs cluster.redis', '1')
  .action(startCommand);

const devices = program.command('devices').description('provision device tokens');
common(devices.command('add <id>').description('add a device and print its token once'))
  .requiredOption('--model <model>', 'device model (a folder of schemas/models)')
  .option('--json', 'JSON output')
  .action((id: string, flags) => devicesCommand('add', id, flags));
common(devices.command('list').description('list devices'))
  .option('--json', 'JSON output')
  .action((flags) => devicesCommand('list', undefined, flags));
common(devices.command('revoke <id>').description('disable a device; closes its live sockets'))
  .option('--json', 'JSON output')
  .action((id: string, flags) => devicesCommand('revoke', id, flags));
common(devices.command('rotate <id>').description('issue a new token; the old one stops working'))
  .option('--json', 'JSON output')
  .action((id: string, flags) => devicesCommand('rotate', id, flags));

const users = program.command('users').description('backend MQTT users and their ACLs');
common(users.command('add <name>').description('add a user; the password is read from stdin'))
  .addOption(new Option('--password-stdin', 'read the password from stdin').makeOptionMandatory())
  .option('--allow-pub <pattern...>', 'MQTT topic filters the user may publish to')
  .option('--allow-sub <pattern...>', 'MQTT topic filters the user may subscribe to')
  .option('--json', 'JSON output')
  .action((name: string, flags) => usersCommand('add', name, flags));
common(users.command('list').description('list users'))
  .option('--json', 'JSON output')
  .action((flags) => usersCommand('list', undefined, flags));
common(users.command('remove <name>').description('remove a user; closes its live sessions'))
  .option('--json', 'JSON output')
  .action((name: string, flags) => usersCommand('remove', name, flags));

await program.parseAsync();
