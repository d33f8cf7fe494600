import { status } from '@grpc/grpc-js';
import { CircuitBreaker, Retry } from '@resilience/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { circuitBreakerInterceptor, retryInterceptor } from '../src/index.js';
import { EchoServer, echoClient, invoke, KINDS } from './helpers.js';

describe('smoke', () => {
  const server = new EchoServer();
  let address = '';
  beforeAll(async () => {
    address = await server.listen();
  });
  afterAll(() => server.close());

  it.each(KINDS)('%s passes through', async (kind) => {
    const client = echoClient(address, [retryInterceptor(new Retry({ initialDelay: 1 })), circuitBreakerInterceptor(new CircuitBreaker())]);
    let n = 0;
    server.plan = () => (n++ === 0 ? { code: status.UNAVAILABLE } : {});
    const out = await invoke(client, kind, ['x', 'y']);
    expect(out.error).toBeUndefined();
    expect(out.replies.length).toBeGreaterThan(0);
    client.close();
  });
});
