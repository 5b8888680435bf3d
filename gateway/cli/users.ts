import { printResult } from './output.js';
import type { CommonFlags } from './resolve-config.js';
import { withRegistries } from './with-registries.js';

export interface UserFlags extends CommonFlags {
  passwordStdin?: boolean;
  allowPub?: string[];
  allowSub?: string[];
  json?: boolean;
}

type UserAction = 'add' | 'list' | 'remove';

export async function usersCommand(action: UserAction, name: string | undefined, flags: UserFlags): Promise<void> {
  const password = action === 'add' ? await readPassword() : '';
  await withRegistries(flags, async ({ users }) => {
    const json = Boolean(flags.json);
    if (action === 'list') {
      const list = await users.list();
      printResult(json, undefined, list, () =>
        list.length === 0
          ? 'No users. Add one with: ws-mqtt-gateway users add NAME --password-stdin --allow-sub PATTERN'
          : list.map((u) => `${u.name.padEnd(20)} pub: ${u.allowPub.join(' ') || '-'}  sub: ${u.allowSub.join(' ') || '-'}`).join('\n'),
      );
    } else if (action === 'add') {
      const result = await users.add(name!, password, flags.allowPub ?? [], flags.allowSub ?? []);
      printResult(json, result.ok ? undefined : result.error, result.ok && result.value, () => `User ${name} added.`);
    } else {
      const result = await users.remove(name!);
      printResult(json, result.ok ? undefined : result.error, result.ok && { name, removed: true }, () =>
        `User ${name} removed; its live MQTT sessions are closed.`,
      );
    }
  });
}

// Passwords come on stdin, never argv (visible in ps and shell history); one trailing newline is stripped.
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
