import net from 'node:net';
import { isTimeoutError, Timeout } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import type { ErrorRequestHandler, Response } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timeout } from '../src/index.js';
import { disconnectMidRequest, expressVersions, gate, type Served, serve, until } from './helpers.js';

describe.each(expressVersions)('timeout on %s', (_name, express) => {
  let served: Served | undefined;
  let crashes: unknown[];
  const onCrash = (err: unknown): void => {
    crashes.push(err);
  };
  beforeEach(() => {
    crashes = [];
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
  });
  afterEach(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await served?.close();
    served = undefined;
    expect(crashes).toEqual([]);
  });

  it('lets a handler that answers in time through, with a live req.signal', async () => {
    const app = express();
    let signal: AbortSignal | undefined;
    app.get('/fast', timeout(1000), (req, res) => {
      signal = req.signal;
      res.json({ ok: true });
    });
    served = await serve(app);
    const res = await fetch(`${served.url}/fast`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
  });

  it('answers 503 when time is up; the late answer writes nothing and throws nothing', async () => {
    const clock = new FakeClock();
    const app = express();
    const release = gate();
    let entered = false;
    let lateError: unknown = 'not run';
    let signal: AbortSignal | undefined;
    app.get('/slow', timeout(new Timeout({ defaultTimeout: 1000, clock })), async (req, res) => {
      entered = true;
      signal = req.signal;
      await release.promise;
      try {
        res.setHeader('X-Late', 'yes');
        res.status(200).json({ late: true });
        lateError = undefined;
      } catch (err) {
        lateError = err;
      }
    });
    app.get('/after', (_req, res) => {
      res.send('still serving');
    });
    served = await serve(app);
    const pending = fetch(`${served.url}/slow`);
    await until(() => entered);
    await clock.advance(1000);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.headers.get('x-late')).toBeNull();
    expect(await res.json()).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
    expect(signal?.aborted).toBe(true);
    expect(isTimeoutError(signal?.reason)).toBe(true);
    release.open();
    await until(() => lateError !== 'not run');
    expect(lateError).toBeUndefined();
    const after = await fetch(`${served.url}/after`);
    expect(await after.text()).toBe('still serving');
  });

  it('a late handler that writes raw, ends with a callback or fails through next() stays harmless', async () => {
    const clock = new FakeClock();
    const app = express();
    const release = gate();
    let entered = false;
    let endCallbackRan = false;
    app.get('/raw', timeout(new Timeout({ defaultTimeout: 50, clock })), async (_req, res, next) => {
      entered = true;
      await release.promise;
      res.writeHead(200, { 'X-Late': 'yes' });
      res.write('partial');
      res.end('done', () => {
        endCallbackRan = true;
      });
      next(new Error('late failure'));
    });
    const handler: ErrorRequestHandler = (_err, _req, res, _next) => {
      res.status(500).send('late error page');
    };
    app.use(handler);
    served = await serve(app);
    const pending = fetch(`${served.url}/raw`);
    await until(() => entered);
    await clock.advance(50);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('timeout');
    release.open();
    await until(() => endCallbackRan);
  });

  it('sends the timeout answer without the headers the handler had set, keeping those set before it', async () => {
    const clock = new FakeClock();
    const app = express();
    const release = gate();
    let entered = false;
    app.get(
      '/staged',
      (_req, res, next) => {
        res.setHeader('X-Before', 'kept');
        res.append('Vary', 'Origin');
        next();
      },
      timeout(new Timeout({ defaultTimeout: 100, clock })),
      async (_req, res) => {
        res.set('Cache-Control', 'public, max-age=86400');
        res.set('Content-Encoding', 'gzip');
        res.set('Set-Cookie', 'session=abc');
        res.set('X-Before', 'changed by the handler');
        res.statusMessage = 'Handler Says';
        entered = true;
        await release.promise;
        res.send('late');
      },
    );
    served = await serve(app);
    const pending = fetch(`${served.url}/staged`);
    await until(() => entered);
    await clock.advance(100);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.statusText).toBe('Service Unavailable');
    expect(res.headers.get('cache-control')).toBeNull();
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('x-before')).toBe('kept');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('content-type')).toContain('application/json');
    // Readable as the JSON it claims to be (a leftover gzip encoding would break it).
    expect(await res.json()).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
    release.open();
  });

  it('pins res.statusCode to the timeout answer: a late res.status(200) changes nothing', async () => {
    const clock = new FakeClock();
    const app = express();
    let closedWith: number | undefined;
    let lateStatus: number | undefined;
    let lateDone = false;
    let entered = false;
    app.get('/fallback', timeout(new Timeout({ defaultTimeout: 100, clock })), (req, res) => {
      entered = true;
      res.once('close', () => {
        closedWith = res.statusCode;
      });
      req.signal?.addEventListener('abort', () => {
        // A common "serve a fallback" handler: answers 200 once its work was cancelled.
        setImmediate(() => {
          res.statusCode = 201;
          res.status(200).json({ fallback: true });
          lateStatus = res.statusCode;
          lateDone = true;
        });
      });
    });
    served = await serve(app);
    const pending = fetch(`${served.url}/fallback`);
    await until(() => entered);
    await clock.advance(100);
    const res = await pending;
    expect(res.status).toBe(503);
    await res.arrayBuffer();
    await until(() => lateDone && closedWith !== undefined);
    expect(lateStatus).toBe(503);
    expect(closedWith).toBe(503);
  });

  it('answers 504 and a custom body when configured', async () => {
    const app = express();
    app.get('/never', timeout(20, { statusCode: 504, body: 'gateway timeout' }), () => {});
    served = await serve(app);
    const res = await fetch(`${served.url}/never`);
    expect(res.status).toBe(504);
    expect(await res.text()).toBe('gateway timeout');
  });

  it('leaves a response that had started to the handler, whose signal still aborts', async () => {
    const clock = new FakeClock();
    const app = express();
    let streaming: Response | undefined;
    let signal: AbortSignal | undefined;
    app.get('/stream', timeout(new Timeout({ defaultTimeout: 100, clock })), (req, res) => {
      signal = req.signal;
      res.status(200).write('first;');
      streaming = res;
    });
    served = await serve(app);
    const pending = fetch(`${served.url}/stream`);
    await until(() => streaming !== undefined);
    const res = await pending;
    expect(res.status).toBe(200);
    await clock.advance(100);
    expect(signal?.aborted).toBe(true);
    streaming?.end('last');
    expect(await res.text()).toBe('first;last');
  });

  it('aborts req.signal when the client disconnects, and answers nothing', async () => {
    const app = express();
    let signal: AbortSignal | undefined;
    app.get('/wait', timeout(5000), (req) => {
      signal = req.signal;
    });
    served = await serve(app);
    await disconnectMidRequest(`${served.url}/wait`, () => signal !== undefined);
    await until(() => signal?.aborted === true);
    expect(signal?.reason).toMatchObject({ name: 'AbortError' });
  });

  /** A raw client on `port`: what it has received so far, whether the server closed the connection, and the socket. */
  function rawClient(port: number) {
    const socket = net.connect(port, '127.0.0.1');
    const state = { received: '', closed: false, socket };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      state.received += chunk;
    });
    socket.on('error', () => {}); // a write after the server closed: EPIPE or ECONNRESET
    socket.on('close', () => {
      state.closed = true;
    });
    return state;
  }

  it('closes the connection of a client still trickling its body when time is up', async () => {
    const clock = new FakeClock();
    const app = express();
    let entered = false;
    app.post('/upload', timeout(new Timeout({ defaultTimeout: 1000, clock })), (req) => {
      entered = true; // reads nothing: the body keeps arriving a byte at a time
      void req;
    });
    served = await serve(app);
    const client = rawClient(served.port);
    client.socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n`);
    const trickle = setInterval(() => {
      if (!client.closed) client.socket.write('x');
    }, 10);
    try {
      await until(() => entered);
      await clock.advance(1000);
      await until(() => client.received.includes('"error":"timeout"'));
      expect(client.received).toMatch(/^HTTP\/1\.1 503 /);
      expect(client.received.toLowerCase()).toContain('connection: close');
      // The server ends the connection although the client keeps sending (before: open until the body was done).
      await until(() => client.closed, 5000);
    } finally {
      clearInterval(trickle);
      client.socket.destroy();
    }
  });

  it('keeps the connection of a request whose body had fully arrived when time is up', async () => {
    const clock = new FakeClock();
    const app = express();
    let entered = 0;
    app.post('/small', timeout(new Timeout({ defaultTimeout: 1000, clock })), (req) => {
      entered++;
      req.resume(); // the handler reads the body, then takes too long
    });
    served = await serve(app);
    const client = rawClient(served.port);
    const request = `POST /small HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello`;
    client.socket.write(request);
    await until(() => entered === 1);
    await clock.advance(1000);
    await until(() => client.received.includes('"error":"timeout"'));
    expect(client.received.toLowerCase()).toContain('connection: keep-alive');
    expect(client.received.toLowerCase()).not.toContain('connection: close');
    // The same connection carries the next request.
    client.socket.write(request);
    await until(() => entered === 2);
    expect(client.closed).toBe(false);
    client.socket.destroy();
  });

  it('passes an error of the policy other than a timeout to next()', async () => {
    const app = express();
    const broken = { execute: () => Promise.reject(new Error('policy broke')) };
    app.get('/x', timeout(broken), (_req, res) => {
      res.send('not reached');
    });
    const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(500).send(err.message);
    };
    app.use(handler);
    served = await serve(app);
    const res = await fetch(`${served.url}/x`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('policy broke');
  });
});

describe('timeout configuration', () => {
  it('refuses what cannot work, naming the option and the value', () => {
    expect(() => timeout(0)).toThrow('timeout: ms must be a finite number > 0, got 0');
    expect(() => timeout(Number.NaN)).toThrow('timeout: ms must be a finite number > 0, got NaN');
    expect(() => timeout({} as never)).toThrow('timeout: msOrTimeout must have an execute() method, got an object');
    expect(() => timeout(10, { statusCode: 302 })).toThrow(
      'timeout: statusCode must be an integer >= 400 and <= 599, got 302',
    );
  });
});

describe.each(expressVersions)('timeout and a handler that answers when its signal aborts, on %s', (_name, express) => {
  it('answers 503 first: the time was up before the handler answered', async () => {
    const app = express();
    app.get('/', timeout(20), (req, res) => {
      req.signal?.addEventListener('abort', () => res.status(200).send('late'));
    });
    const served = await serve(app);
    try {
      const res = await fetch(served.url);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
    } finally {
      await served.close();
    }
  });
});
