// A price service that fails its first requests with 503. It continues the
// caller's trace from the W3C headers, so its span sits under the attempt that called it.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { extractHttpHeaders } from '@resilience/otel';

/** Starts the upstream on a free loopback port; it answers 503 to its first `failures` requests. */
export async function startUpstream(tracer: Tracer, failures: number): Promise<{ url: string; close(): void }> {
  let requests = 0;
  const server = createServer((req, res) => {
    context.with(extractHttpHeaders(req.headers), () => {
      tracer.startActiveSpan('upstream GET /price', (span) => {
        requests++;
        const status = requests <= failures ? 503 : 200;
        span.setAttribute('http.response.status_code', status);
        if (status !== 200) span.setStatus({ code: SpanStatusCode.ERROR, message: 'overloaded' });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { sku: 'A-1', price: 42 } : { error: 'overloaded' }));
        span.end();
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/price`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
