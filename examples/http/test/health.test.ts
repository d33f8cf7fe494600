import type { AddressInfo } from 'node:net';
import type { Logger } from '@resilience/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway.js';
import { startUpstream, type Upstream } from '../src/upstream.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('the gateway /health, over real HTTP', () => {
  let upstream: Upstream;
  let server: import('node:http').Server;
  let url: string;
  let gateway: ReturnType<typeof createGateway>;

  beforeAll(async () => {
    upstream = await startUpstream(0, { noise: 0 });
    gateway = createGateway({ upstreamUrl: upstream.url, logger: quiet, breakerOpenTime: 200 });
    server = gateway.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await upstream.close();
  });

  async function health(): Promise<{
    code: number;
    body: { status: string; policies: { name: string; state?: string }[] };
  }> {
    const res = await fetch(`${url}/health`);
    return {
      code: res.status,
      body: (await res.json()) as { status: string; policies: { name: string; state?: string }[] },
    };
  }

  it('answers 200, flips to 503 while the breaker is open, and back to 200 once it closes', async () => {
    let { code, body } = await health();
    expect(code).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.policies.map((p) => p.name)).toEqual(['gateway', 'upstream']);

    upstream.setMode('failing');
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/api/quote`)).status).toBe(502);
    ({ code, body } = await health());
    expect(code).toBe(503);
    expect(body).toMatchObject({
      status: 'down',
      policies: [{ name: 'gateway' }, { name: 'upstream', state: 'open' }],
    });

    upstream.setMode('healthy');
    // The breaker lets probes through once its 200 ms open time has passed; 3 successes close it.
    const deadline = Date.now() + 5_000;
    while (gateway.breaker.state !== 'closed' && Date.now() < deadline) {
      await fetch(`${url}/api/quote`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    ({ code, body } = await health());
    expect(code).toBe(200);
    expect(body.status).toBe('ok');

    // The Prometheus recorder, attached through its `policies` option, saw every policy of the registry.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('resilience_circuit_breaker_state{name="upstream",state="closed"} 1');
    expect(metrics).toMatch(/resilience_circuit_breaker_calls_total\{name="upstream",outcome="failure"\} [1-9]/);
    expect(metrics).toMatch(/resilience_retry_attempts_total\{name="upstream",outcome="failure"\} [1-9]/);
    expect(metrics).toContain('resilience_bulkhead_active{name="gateway"}');
  });
});
