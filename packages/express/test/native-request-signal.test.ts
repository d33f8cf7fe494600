import http from 'node:http';
import { Bulkhead } from '@resilience/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulkhead, timeout } from '../src/index.js';
import { expressVersions, type Served, serve } from './helpers.js';

// Node.js 24 gave every IncomingMessage a getter-only `signal` of its own. The
// middleware must neither assign to it (that throws in an ES module) nor take it
// for a caller's signal. On older Node.js the test installs such a getter, one
// that returns an already-aborted signal: the worst a foreign `signal` can be.
const proto = http.IncomingMessage.prototype;
const native = Object.getOwnPropertyDescriptor(proto, 'signal');

beforeAll(() => {
  if (native === undefined) {
    Object.defineProperty(proto, 'signal', { get: () => AbortSignal.abort(), configurable: true });
  }
});

afterAll(() => {
  if (native === undefined) Reflect.deleteProperty(proto, 'signal');
});

describe.each(expressVersions)('a request that has a getter-only signal of its own, on %s', (_name, express) => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('gets the middleware signal as req.signal, live, through timeout() and bulkhead()', async () => {
    expect(Object.getOwnPropertyDescriptor(proto, 'signal')?.set).toBeUndefined();
    const app = express();
    const bh = new Bulkhead({ maxConcurrent: 2 });
    app.get('/', timeout(5_000), bulkhead(bh), (req, res) => {
      res.json({ aborted: req.signal?.aborted, own: Object.hasOwn(req, 'signal') });
    });
    served = await serve(app);
    const res = await fetch(served.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ aborted: false, own: true });
    expect(bh.active).toBe(0);
  });
});
