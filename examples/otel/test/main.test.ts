import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

async function start(env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('pnpm', ['--silent', 'start'], {
    cwd: root,
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return stdout;
}

describe('examples/otel', () => {
  it('prints one span per attempt under the caller, the upstream span under each, and logs with the trace id', async () => {
    const stdout = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    const lines = stdout.split('\n');
    expect(lines).toContain('result: A-1 costs 42');
    const traceId = /^trace ([0-9a-f]{32}):$/m.exec(stdout)?.[1];
    expect(traceId).toBeDefined();

    const from = lines.indexOf(`trace ${traceId}:`) + 1;
    const tree = lines.slice(from, lines.indexOf('', from)).map((line) => line.replace(/ {2}[\d.]+ ms$/, ''));
    expect(tree).toEqual([
      '  GET /checkout',
      '    resilience.retry.attempt #1 ERROR (upstream answered 503)',
      '      resilience.circuit_breaker [closed] ERROR (upstream answered 503)',
      '        resilience.timeout ERROR (upstream answered 503)',
      '          upstream GET /price ERROR (overloaded)',
      '    resilience.retry.attempt #2 ERROR (upstream answered 503)',
      '      resilience.circuit_breaker [closed] ERROR (upstream answered 503)',
      '        resilience.timeout ERROR (upstream answered 503)',
      '          upstream GET /price ERROR (overloaded)',
      '    resilience.retry.attempt #3',
      '      resilience.circuit_breaker [closed]',
      '        resilience.timeout',
      '          upstream GET /price',
    ]);

    const logs = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(logs.map((l) => l.msg)).toEqual(['retrying', 'retrying', 'price received']);
    for (const log of logs) expect(log.trace_id).toBe(traceId);
    expect(logs[0]).toMatchObject({ 'resilience.pattern': 'retry', 'resilience.name': 'pricing', attempt: 1 });

    expect(lines).toContain('  resilience.retry.attempts{resilience.name=pricing,resilience.outcome=failure} 2');
    expect(lines).toContain('  resilience.circuit_breaker.calls{resilience.name=pricing,resilience.outcome=success} 1');
  }, 40_000);

  it('also sends the spans to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const received: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] = [];
    const collector = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: { scopeSpans: { spans: (typeof received)[number][] }[] }[];
        };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    try {
      const { port } = collector.address() as AddressInfo;
      await start({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
      const rootSpan = received.find((s) => s.name === 'GET /checkout');
      const attempts = received.filter((s) => s.name === 'resilience.retry.attempt');
      expect(attempts).toHaveLength(3);
      for (const attempt of attempts) expect(attempt.parentSpanId).toBe(rootSpan?.spanId);
      expect(received.filter((s) => s.name === 'upstream GET /price')).toHaveLength(3);
      expect(new Set(received.map((s) => s.traceId)).size).toBe(1);
    } finally {
      collector.close();
    }
  }, 40_000);

  it('still answers, and exits 0, when the collector is down', async () => {
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const { port } = gone.address() as AddressInfo;
    gone.close();
    await once(gone, 'close');
    // A short export timeout keeps the test short; the default is 10 s.
    const stdout = await start({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    });
    expect(stdout).toContain('result: A-1 costs 42');
    const warning = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((log) => log.msg === 'telemetry could not be flushed');
    expect(warning?.err?.message).toMatch(/ECONNREFUSED/);
  }, 60_000);
});
