import http from 'node:http';

/** How the demo classifies each answer of the gateway. */
export const OUTCOMES = ['ok', 'failedFast', 'rateLimited', 'timedOut', 'shed', 'failed'] as const;

/** One of {@link OUTCOMES}. */
export type Outcome = (typeof OUTCOMES)[number];

/** Labels for the live view and the summary. */
export const OUTCOME_LABELS: Readonly<Record<Outcome, string>> = {
  ok: 'ok',
  failedFast: 'failed fast',
  rateLimited: 'rate limited',
  timedOut: 'timed out',
  shed: 'shed',
  failed: 'failed',
};

/** A count per outcome. */
export type Tally = Record<Outcome, number>;

/** A tally of zeros. */
export function emptyTally(): Tally {
  return { ok: 0, failedFast: 0, rateLimited: 0, timedOut: 0, shed: 0, failed: 0 };
}

/**
 * Reads an answer: 200 ok; 429 rate limited; 503 from the breaker
 * (`service_unavailable`) failed fast; 503 from `timeout()` or a 504 timed
 * out; 503 from the bulkhead (`overloaded`) shed; anything else failed.
 */
export function classify(status: number, body: string): Outcome {
  if (status === 200) return 'ok';
  if (status === 429) return 'rateLimited';
  if (status === 504) return 'timedOut';
  if (status === 503) {
    let error: unknown;
    try {
      error = (JSON.parse(body) as { error?: unknown }).error;
    } catch {
      return 'failed';
    }
    if (error === 'service_unavailable') return 'failedFast';
    if (error === 'timeout') return 'timedOut';
    if (error === 'overloaded') return 'shed';
  }
  return 'failed';
}

/**
 * Sends GET requests at a target rate over kept-alive connections, from one
 * client or from a crowd of source addresses in turn, and reports each
 * classified answer. The rate can change at any time; requests
 * in flight are capped so a stalled gateway cannot pile up sockets.
 */
export class TrafficGenerator {
  readonly #url: string;
  readonly #onAnswer: (outcome: Outcome, sentAt: number) => void;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  /** Request options per source address (the agent keeps separate connections for each). */
  readonly #options: readonly http.RequestOptions[];
  #turn = 0;
  #rate = 0;
  #timer: NodeJS.Timeout | undefined;
  #owed = 0;
  #last = 0;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  /**
   * @param url - the URL to send to
   * @param onAnswer - told the outcome of every request and when it was
   *   sent (`performance.now()`)
   * @param localAddresses - the addresses to send from, taking turns (a
   *   crowd of clients: `127.0.0.2`, `127.0.0.3`, ...); by default the
   *   system's choice
   */
  constructor(
    url: string,
    onAnswer: (outcome: Outcome, sentAt: number) => void,
    localAddresses: readonly string[] = [],
  ) {
    this.#url = url;
    this.#onAnswer = onAnswer;
    this.#options =
      localAddresses.length === 0
        ? [{ agent: this.#agent }]
        : localAddresses.map((localAddress) => ({ agent: this.#agent, localAddress }));
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sets the rate, in requests per second. */
  setRate(perSecond: number): void {
    this.#rate = perSecond;
  }

  /** Starts sending. */
  start(): void {
    this.#last = performance.now();
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** Stops sending and resolves once every request in flight is answered (or after `graceMs`). */
  async stop(graceMs = 2000): Promise<void> {
    clearInterval(this.#timer);
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#agent.destroy();
  }

  #tick(): void {
    const now = performance.now();
    this.#owed += ((now - this.#last) / 1000) * this.#rate;
    this.#last = now;
    while (this.#owed >= 1 && this.#inFlight < 256) {
      this.#owed -= 1;
      this.#send();
    }
    if (this.#owed > 1) this.#owed = 1;
  }

  #send(): void {
    this.#inFlight++;
    const sentAt = performance.now();
    let settled = false;
    const done = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      this.#done(outcome, sentAt);
    };
    const options = this.#options[this.#turn] as http.RequestOptions;
    this.#turn = (this.#turn + 1) % this.#options.length;
    const req = http.get(this.#url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => done(classify(res.statusCode ?? 0, body)));
      res.on('error', () => done('failed'));
    });
    req.on('error', () => done('failed'));
  }

  #done(outcome: Outcome, sentAt: number): void {
    this.#inFlight--;
    this.#onAnswer(outcome, sentAt);
    if (this.#inFlight === 0) this.#idle?.();
  }
}
