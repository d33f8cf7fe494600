import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ExecuteOptions, Operation } from '../context.js';
import { rootContext } from '../internal/context.js';
import { asMiddleware, chain, type Handler, type Middleware } from './middleware.js';

function tag(log: string[], name: string): Middleware<string> {
  return (next) => async (ctx) => {
    log.push(`${name}:in`);
    const result = await next(ctx);
    log.push(`${name}:out`);
    return `${name}(${result})`;
  };
}

describe('chain', () => {
  it('runs the first middleware outermost', async () => {
    const log: string[] = [];
    const handler = chain(
      tag(log, 'a'),
      tag(log, 'b'),
      tag(log, 'c'),
    )(async () => {
      log.push('work');
      return 'x';
    });
    await expect(handler(rootContext)).resolves.toBe('a(b(c(x)))');
    expect(log).toEqual(['a:in', 'b:in', 'c:in', 'work', 'c:out', 'b:out', 'a:out']);
  });

  it('returns the handler itself when given no middleware', () => {
    const handler: Handler<number> = async () => 1;
    expect(chain<number>()(handler)).toBe(handler);
  });

  it('refuses a middleware that is not a function at once, naming its position and value', () => {
    const ok: Middleware<number> = (next) => next;
    expect(() => chain<number>(ok, null as unknown as Middleware<number>)).toThrow(
      new TypeError('chain: middleware 1 must be a function (next) => handler, got null'),
    );
    expect(() => chain<number>(5 as unknown as Middleware<number>)).toThrow('middleware 0 must be a function');
  });

  it('refuses a handler that is not a function, and a middleware that returns none', () => {
    const handler: Handler<number> = async () => 1;
    expect(() => chain<number>()(undefined as unknown as Handler<number>)).toThrow(
      'chain: the handler must be a function (ctx) => Promise, got undefined',
    );
    const forgetful = (() => undefined) as unknown as Middleware<number>;
    expect(() => chain<number>((next) => next, forgetful)(handler)).toThrow(
      new TypeError('chain: middleware 1 returned undefined, not a handler function'),
    );
  });
});

describe('asMiddleware', () => {
  it('refuses a policy without an execute method at once', () => {
    expect(() => asMiddleware(null as never)).toThrow(
      new TypeError('asMiddleware: policy must have an execute method, got null'),
    );
    expect(() => asMiddleware({ execute: 1 } as never)).toThrow('policy must have an execute method');
  });

  it('hands the incoming context to execute as its options', async () => {
    const seen: (ExecuteOptions | undefined)[] = [];
    const policy = {
      execute<R>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
        seen.push(options);
        return Promise.resolve(fn({ signal: options?.signal ?? rootContext.signal, attempt: 7 }));
      },
    };
    const ctx = { signal: new AbortController().signal, attempt: 2, deadline: 500 };
    const handler = chain(asMiddleware<number>(policy))(async (inner) => inner.attempt);
    await expect(handler(ctx)).resolves.toBe(7);
    expect(seen).toEqual([ctx]);
    expect(seen[0]).toBe(ctx);
  });
});

describe('asMiddleware typing', () => {
  it('infers the value type from a typed pattern', async () => {
    const { Retry } = await import('../retry/index.js');
    const { Timeout } = await import('../timeout/index.js');
    const handler = chain(asMiddleware(new Timeout<string>()), asMiddleware(new Retry<string>()))(async () => 'ok');
    expectTypeOf(handler).toEqualTypeOf<Handler<string>>();
    await expect(handler(rootContext)).resolves.toBe('ok');
  });
});
