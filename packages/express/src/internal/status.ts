// Status options live in @resilience/http, shared by every HTTP adapter.
export { statusOption } from '@resilience/http';
