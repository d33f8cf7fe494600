import { AdaptiveBulkhead } from '@resilience/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkhead } from '../src/index.js';
import { expressVersions, type Gate, gate, type Served, serve, until } from './helpers.js';

// The core's AdaptiveBulkhead rejects with BulkheadFullError like a Bulkhead, so the middleware takes it unchanged.
describe.each(expressVersions)('bulkhead(new AdaptiveBulkhead(...)) on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('answers 503 past the adaptive limit and serves its queue in order', async () => {
    const bh = new AdaptiveBulkhead({ algorithm: 'aimd', initialLimit: 2, minLimit: 1, maxLimit: 4, maxQueue: 1 });
    const app = express();
    const gates: Gate[] = [];
    app.get('/hold', bulkhead(bh), async (_req, res) => {
      const g = gate();
      gates.push(g);
      await g.promise;
      res.send(`done ${gates.indexOf(g)}`);
    });
    served = await serve(app);
    const running = [fetch(`${served.url}/hold`), fetch(`${served.url}/hold`)];
    await until(() => gates.length === 2);
    expect([bh.limit, bh.active]).toEqual([2, 2]);
    const queued = fetch(`${served.url}/hold`);
    await until(() => bh.queued === 1);
    const rejected = await fetch(`${served.url}/hold`);
    expect(rejected.status).toBe(503);
    gates[0]?.open();
    await until(() => gates.length === 3);
    gates[1]?.open();
    gates[2]?.open();
    const answers = await Promise.all([...running, queued]);
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(['done 0', 'done 1', 'done 2']);
    await until(() => bh.active === 0);
    expect(bh.queued).toBe(0);
  });
});
