import { Bulkhead, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import type { ErrorRequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead, timeout } from '../src/index.js';
import { disconnectMidRequest, expressVersions, type Gate, gate, type Served, serve, sleep, until } from './helpers.js';

describe.each(expressVersions)('bulkhead on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  /** An app whose /hold requests each wait for their own gate. */
  function holdingApp(bh: Bulkhead, options?: Parameters<typeof bulkhead>[1]) {
    const app = express();
    const gates: Gate[] = [];
    const signals: AbortSignal[] = [];
    app.get('/hold', bulkhead(bh, options), async (req, res) => {
      const g = gate();
      gates.push(g);
      if (req.signal) signals.push(req.signal);
      await g.promise;
      res.send(`done ${gates.indexOf(g)}`);
    });
    return { app, gates, signals };
  }

  it('answers 503 with Retry-After when every slot is busy and the queue is full', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const { app, gates } = holdingApp(bh);
    served = await serve(app);
    const first = fetch(`${served.url}/hold`);
    await until(() => gates.length === 1);
    expect(bh.active).toBe(1);
    const rejected = await fetch(`${served.url}/hold`);
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(await rejected.json()).toEqual({ error: 'overloaded', message: 'The service is busy. Try again later.' });
    gates[0]?.open();
    expect(await (await first).text()).toBe('done 0');
    await until(() => bh.active === 0);
    const again = fetch(`${served.url}/hold`);
    await until(() => gates.length === 2);
    gates[1]?.open();
    expect((await again).status).toBe(200);
  });

  it('queues up to maxQueue and runs the waiter when a slot frees', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const { app, gates } = holdingApp(bh);
    served = await serve(app);
    const first = fetch(`${served.url}/hold`);
    await until(() => gates.length === 1);
    const second = fetch(`${served.url}/hold`);
    await until(() => bh.queued === 1);
    const third = await fetch(`${served.url}/hold`);
    expect(third.status).toBe(503);
    gates[0]?.open();
    await until(() => gates.length === 2);
    expect(bh.active).toBe(1);
    gates[1]?.open();
    expect(await (await first).text()).toBe('done 0');
    expect(await (await second).text()).toBe('done 1');
    await until(() => bh.active === 0);
  });

  it('a client that disconnects frees its slot, or leaves the queue at once', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const { app, gates, signals } = holdingApp(bh);
    served = await serve(app);
    const url = `${served.url}/hold`;
    await disconnectMidRequest(url, () => gates.length === 1);
    await until(() => signals[0]?.aborted === true);
    await until(() => bh.active === 0);
    // Now hold the slot and let a queued client go away.
    const holder = fetch(url);
    await until(() => gates.length === 2);
    await disconnectMidRequest(url, () => bh.queued === 1);
    await until(() => bh.queued === 0);
    gates[1]?.open();
    expect((await holder).status).toBe(200);
    expect(gates.length).toBe(2);
    gates[0]?.open();
  });

  it('never runs the rest of a request whose client left before it got there', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const app = express();
    let arrived = false;
    let handled = 0;
    app.get(
      '/late',
      (req, _res, next) => {
        arrived = true;
        req.once('close', () => setTimeout(next, 5));
      },
      bulkhead(bh),
      (_req, res) => {
        handled++;
        res.send('should not run');
      },
    );
    served = await serve(app);
    await disconnectMidRequest(`${served.url}/late`, () => arrived);
    await sleep(40);
    expect(handled).toBe(0);
    expect(bh.active).toBe(0);
  });

  it("the caller's own abort (the client leaving) never reaches next(err)", async () => {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const app = express();
    const gates: Gate[] = [];
    const errors: unknown[] = [];
    let arrived = false;
    app.get('/hold', bulkhead(bh), async (_req, res) => {
      const g = gate();
      gates.push(g);
      await g.promise;
      res.send('done');
    });
    // Reaches bulkhead() and timeout() only once its client is gone: their caller signal is already aborted.
    app.get(
      '/late',
      (req, _res, next) => {
        arrived = true;
        req.once('close', () => setTimeout(next, 5));
      },
      bulkhead(bh),
      timeout(5000),
      (_req, res) => {
        res.send('should not run');
      },
    );
    const recordErrors: ErrorRequestHandler = (err, _req, _res, next) => {
      errors.push(err);
      next(err);
    };
    app.use(recordErrors);
    served = await serve(app);
    const holder = fetch(`${served.url}/hold`);
    await until(() => gates.length === 1);
    // Queued behind the holder, then gone.
    await disconnectMidRequest(`${served.url}/hold`, () => bh.queued === 1);
    await until(() => bh.queued === 0);
    await disconnectMidRequest(`${served.url}/late`, () => arrived);
    await sleep(40);
    gates[0]?.open();
    expect((await holder).status).toBe(200);
    expect(errors).toEqual([]);
    expect(gates).toHaveLength(1);
  });

  it('inside timeout(): the slot is free once the timeout answered, while the handler still runs', async () => {
    const clock = new FakeClock();
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const app = express();
    const gates: Gate[] = [];
    app.get('/work', timeout(new Timeout({ defaultTimeout: 500, clock })), bulkhead(bh), async (_req, res) => {
      const g = gate();
      gates.push(g);
      await g.promise; // ignores its signal: keeps running after the timeout
      res.send('done');
    });
    served = await serve(app);
    const first = fetch(`${served.url}/work`);
    await until(() => gates.length === 1);
    expect(bh.active).toBe(1);
    const busy = await fetch(`${served.url}/work`);
    expect(busy.status).toBe(503);
    expect(await busy.json()).toMatchObject({ error: 'overloaded' });
    await clock.advance(500);
    const res = await first;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'timeout' });
    await until(() => bh.active === 0);
    // The first handler has not finished, and a new request gets the slot.
    const second = fetch(`${served.url}/work`);
    await until(() => gates.length === 2);
    expect(bh.active).toBe(1);
    gates[1]?.open();
    expect(await (await second).text()).toBe('done');
    gates[0]?.open();
    await until(() => bh.active === 0);
  });

  it('takes retryAfter, statusCode and body options', async () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    const { app, gates } = holdingApp(bh, { retryAfter: false, statusCode: 429, body: { busy: true } });
    served = await serve(app);
    const first = fetch(`${served.url}/hold`);
    await until(() => gates.length === 1);
    const rejected = await fetch(`${served.url}/hold`);
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('retry-after')).toBeNull();
    expect(await rejected.json()).toEqual({ busy: true });
    gates[0]?.open();
    await (await first).text();
  });

  it('inside timeout(): a queued request whose time runs out gets the timeout answer and leaves the queue', async () => {
    const clock = new FakeClock();
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const app = express();
    const gates: Gate[] = [];
    const guard = bulkhead(bh);
    const handler = async (_req: unknown, res: { send(body: string): void }): Promise<void> => {
      const g = gate();
      gates.push(g);
      await g.promise;
      res.send('done');
    };
    app.get('/long', guard, handler);
    app.get('/short', timeout(new Timeout({ defaultTimeout: 500, clock })), guard, handler);
    served = await serve(app);
    const first = fetch(`${served.url}/long`);
    await until(() => gates.length === 1);
    const queued = fetch(`${served.url}/short`);
    await until(() => bh.queued === 1);
    await clock.advance(500);
    const res = await queued;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'timeout' });
    expect(bh.queued).toBe(0);
    expect(gates.length).toBe(1);
    gates[0]?.open();
    expect((await first).status).toBe(200);
    await until(() => bh.active === 0);
  });
});

describe('bulkhead configuration', () => {
  it('refuses what cannot work, naming the option and the value', () => {
    const bh = new Bulkhead({ maxConcurrent: 1 });
    expect(() => bulkhead(undefined as never)).toThrow('bulkhead: bh must have an execute() method, got undefined');
    expect(() => bulkhead(bh, { retryAfter: -1 })).toThrow(
      'bulkhead: retryAfter must be an integer >= 0 or false, got -1',
    );
    expect(() => bulkhead(bh, { retryAfter: '1' as never })).toThrow(
      'bulkhead: retryAfter must be an integer >= 0 or false, got "1"',
    );
    expect(() => bulkhead(bh, { statusCode: 600 })).toThrow(
      'bulkhead: statusCode must be an integer >= 400 and <= 599, got 600',
    );
  });
});
