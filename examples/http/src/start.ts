import { parseArgs } from 'node:util';
import { fromPino, traceMixin } from '@resilience/logging';
import { pino } from 'pino';
import { createGateway } from './gateway.js';
import { startUpstream } from './upstream.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    port: { type: 'string', default: '3000' },
    'upstream-port': { type: 'string', default: '3001' },
  },
});

// pino through fromPino(); traceMixin() adds trace_id/span_id to each line once an
// OpenTelemetry SDK is registered (see examples/otel), and nothing until then.
const logger = fromPino(pino({ base: { service: 'gateway' }, mixin: traceMixin() }));
const upstream = await startUpstream(Number(values['upstream-port']));
const { app } = createGateway({ upstreamUrl: upstream.url, logger });
const server = app.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : values.port;
  logger.info('gateway listening', {
    url: `http://127.0.0.1:${port}`,
    metrics: `http://127.0.0.1:${port}/metrics`,
    upstream: upstream.url,
  });
  console.error(`
  Gateway   http://127.0.0.1:${port}/api/quote   (health: /health)
  Metrics   http://127.0.0.1:${port}/metrics     (Prometheus scrape target)
  Upstream  ${upstream.url}/quote

  Break the upstream and watch the patterns react:
    curl -X PUT ${upstream.url}/mode/failing   # every answer a 500: the breaker opens
    curl -X PUT ${upstream.url}/mode/slow      # 2 s answers: timeouts
    curl -X PUT ${upstream.url}/mode/healthy   # recovery: the breaker closes again
  Ctrl-C to stop.
`);
});

const stop = (): void => {
  logger.info('shutting down', {});
  server.closeAllConnections();
  server.close(() => {
    void upstream.close().then(() => process.exit(0));
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
