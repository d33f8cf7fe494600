// The header writer lives in @resilience/http, shared by every HTTP adapter.
export { type RateLimitHeaderSettings, RateLimitHeaders, sfString } from '@resilience/http';
