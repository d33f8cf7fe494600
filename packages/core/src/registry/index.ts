export type { EventListener, Subscription } from '../internal/events.js';
export { PolicyRegistry } from './registry.js';
export type {
  ConfigOfKind,
  ConfigurableKind,
  ConfigureOptions,
  HealthReport,
  HealthStatus,
  PolicyHealth,
  PolicyKind,
  PolicyOfKind,
  PolicyRegistryConfig,
  PolicyRegistryEvents,
  PolicyRegistryOptions,
  RegisteredPolicy,
  RegisterOptions,
} from './types.js';
