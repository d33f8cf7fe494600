import { isMaxAttemptsReachedError, isTimeoutError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch, type FetchLike } from '../src/index.js';
import { answer, eventually, startServer, type TestServer } from './helpers.js';

/** A fetch that ignores its signal and answers after `ms` of the fake clock. */
function deaf(clock: FakeClock, ms: number, made: Response[]): FetchLike {
  return () =>
    new Promise((resolve) => {
      clock.setTimeout(() => {
        const res = new Response('late');
        made.push(res);
        resolve(res);
      }, ms);
    });
}

async function settle<T>(clock: FakeClock, promise: Promise<T>): Promise<T | unknown> {
  let done = false;
  const result = promise.then(
    (v) => v,
    (e: unknown) => e,
  );
  void result.then(() => {
    done = true;
  });
  for (let i = 0; !done && i < 100; i++) await clock.advance(10);
  return result;
}

describe('responses nobody will read', () => {
  it('a response that arrives after its attempt timed out has its body cancelled', async () => {
    const clock = new FakeClock();
    const made: Response[] = [];
    let calls = 0;
    const slowThenFast: FetchLike = (input, init) => {
      calls++;
      return calls === 1 ? deaf(clock, 100, made)(input, init) : Promise.resolve(new Response('fast'));
    };
    const fetch = createFetch({ fetch: slowThenFast, clock, attemptTimeout: 50, retry: { initialDelay: 1 } });
    const res = (await settle(clock, fetch('http://a.test/'))) as Response;
    expect(await res.text()).toBe('fast');
    await clock.advance(100);
    await eventually(() => made.length === 1);
    expect(made[0]?.bodyUsed).toBe(true);
  });

  it('a response that arrives after the overall timeout has its body cancelled', async () => {
    const clock = new FakeClock();
    const made: Response[] = [];
    const fetch = createFetch({ fetch: deaf(clock, 300, made), clock, timeout: 100, attemptTimeout: 1000 });
    const error = await settle(clock, fetch('http://a.test/'));
    expect(isTimeoutError(error)).toBe(true);
    await clock.advance(300);
    await eventually(() => made.length === 1);
    expect(made[0]?.bodyUsed).toBe(true);
  });
});

describe('the real server going away', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('a server stopped mid-request: the attempt fails, the retries find nobody, the caller gets the last error', async () => {
    const s = await startServer(() => {});
    const fetch = createFetch({ retry: { initialDelay: 1, jitter: false }, breaker: false });
    const pending = fetch(s.url).catch((e: unknown) => e);
    await eventually(() => s.count() === 1);
    await s.close();
    const error = await pending;
    expect(isMaxAttemptsReachedError(error)).toBe(true);
  });

  it("a Request object's own signal cancels the call", async () => {
    const s = await startServer((_req, res, n) => {
      if (n > 1) answer(res, 200);
    });
    servers.push(s);
    const controller = new AbortController();
    const reason = new Error('request signal');
    const fetch = createFetch();
    const pending = fetch(new Request(s.url, { signal: controller.signal }));
    await eventually(() => s.count() === 1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
