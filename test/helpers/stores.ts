import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { openStore, type Store } from '../../gateway/store/open-store.js';
import { tempDataDir } from './gateway.js';
import { skipWithoutRedis, startRedis, type RedisProcess } from './redis-server.js';

interface After {
  after(fn: () => unknown): void;
}

/** The embedded store (a fresh data dir unless given one), closed and removed after the test. */
export function sqliteStore(t: After, dir = tempDataDir()): Store {
  const store = openStore(dir);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

export interface RedisStore {
  server: RedisProcess;
  /** A new ioredis connection to the server, closed after the test (before the server stops). */
  connect(): Redis;
  /** What the connections reported while the server was away (ioredis reconnects by itself). */
  connectionErrors: Error[];
}

/** A real redis-server for the test, with connections that are closed before it is stopped. */
export async function redisStore(t: After): Promise<RedisStore> {
  const serverHooks: Array<() => unknown> = [];
  const clients: Redis[] = [];
  t.after(async () => {
    for (const client of clients) client.disconnect();
    for (const hook of serverHooks) await hook();
  });
  const server = await startRedis({ after: (fn) => serverHooks.push(fn) });
  const connectionErrors: Error[] = [];
  return {
    server,
    connectionErrors,
    connect() {
      const client = new Redis(server.url);
      client.on('error', (err: Error) => connectionErrors.push(err));
      clients.push(client);
      return client;
    },
  };
}

/** One contract test's store, under the name its cases run as; skip says why Redis cannot run here. */
export interface Backend<T> {
  name: string;
  skip: string | false;
  /** The thing under test through two handles on one store (two SQLite connections, two Redis connections). */
  open(t: After): Promise<[T, T]>;
}

/** The embedded store and a real Redis, for cases that must hold the same on both. */
export function bothStores<T>(sqlite: (store: Store) => T, redis: (connection: Redis) => T): Backend<T>[] {
  return [
    {
      name: 'sqlite',
      skip: false,
      async open(t) {
        const dir = tempDataDir();
        return [sqlite(sqliteStore(t, dir)), sqlite(sqliteStore(t, dir))];
      },
    },
    {
      name: 'redis',
      skip: skipWithoutRedis,
      async open(t) {
        const server = await redisStore(t);
        return [redis(server.connect()), redis(server.connect())];
      },
    },
  ];
}
