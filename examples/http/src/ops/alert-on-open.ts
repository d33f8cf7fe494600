// Alert when any circuit breaker of the registry opens, including breakers
// created after the alert was set up. Listeners never change an outcome: one
// that throws or returns a rejected promise (a webhook that is down) is logged.
//
//   pnpm --filter @resilience/example-http ops:alert
import { type CircuitBreaker, PolicyRegistry, type RegisteredPolicy, type Subscription } from '@resilience/core';

/** Calls `notify` each time a breaker of `policies` opens; returns what stops it. */
export function alertOnOpen(
  policies: PolicyRegistry,
  notify: (breaker: string, from: string) => unknown,
): Subscription['dispose'] {
  const subscriptions: Subscription[] = [];
  const attach = ({ kind, name, policy }: RegisteredPolicy): void => {
    if (kind !== 'circuitBreaker') return;
    subscriptions.push(
      (policy as CircuitBreaker).on('stateChange', ({ from, to }) => (to === 'open' ? notify(name, from) : undefined)),
    );
  };
  for (const registered of policies.list()) attach(registered);
  subscriptions.push(policies.on('added', attach));
  return () => {
    for (const subscription of subscriptions) subscription.dispose();
  };
}

async function main(): Promise<void> {
  const policies = new PolicyRegistry();
  const payments = policies.circuitBreaker('payments', { readyToTrip: (c) => c.consecutiveFailures >= 3 });
  const stop = alertOnOpen(policies, async (breaker, from) => {
    console.log(`ALERT: circuit breaker "${breaker}" opened (was ${from})`);
    // In a service: await fetch(webhookUrl, { method: 'POST', body: JSON.stringify({ breaker }) });
  });
  // A breaker created later is watched too.
  const search = policies.circuitBreaker('search', { readyToTrip: () => true });

  const failing = (): never => {
    throw new Error('dependency down');
  };
  for (let i = 0; i < 3; i++) await payments.execute(failing).catch(() => {});
  await search.execute(failing).catch(() => {});
  console.log(`health: ${policies.health().status}`);
  stop();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
