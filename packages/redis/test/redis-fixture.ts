import { afterAll, afterEach, beforeAll } from 'vitest';
import { type ClientLibrary, connect, RedisServer, type TestClient } from './redis-server.js';

/** One real redis-server for a `describe` block, and clients of it on one client library. */
export interface RedisFixture {
  /** The server (started before the block's tests; the tests may stop and resume it). */
  readonly server: RedisServer;
  /** A connected client of the server, closed after the test that made it. */
  client(): Promise<TestClient>;
}

/**
 * Starts a redis-server before the block's tests and stops it after them; after each test, awaits `closeFirst`
 * (what must close while its clients still run) and then closes every client made by {@link RedisFixture.client}.
 * Call it inside the `describe` block.
 */
export function useRedisServer(library: ClientLibrary, closeFirst?: () => Promise<unknown>): RedisFixture {
  let server: RedisServer | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    if (closeFirst !== undefined) await closeFirst();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  const fixture: RedisFixture = {
    get server(): RedisServer {
      if (server === undefined) throw new Error('the redis-server is not started yet (use it inside a test)');
      return server;
    },
    async client() {
      const c = await connect(library, fixture.server.port);
      clients.push(c);
      return c;
    },
  };
  return fixture;
}
