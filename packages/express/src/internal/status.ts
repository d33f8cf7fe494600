import { numberOption } from '@resilience/core/validate';

/** A status code for an error answer (400–599), `fallback` when `undefined`; throws naming the value otherwise. */
export function statusOption(owner: string, value: unknown, fallback: number): number {
  return numberOption(owner, 'statusCode', value, fallback, { min: 400, max: 599, integer: true });
}
