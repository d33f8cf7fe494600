// The failure log lives in @resilience/http, shared by every HTTP adapter.
export { FailureLog } from '@resilience/http';
