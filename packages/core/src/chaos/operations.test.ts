import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { FakeClock } from '../testing/index.js';
import { Chaos } from './chaos.js';

failOnUnhandledRejection();

describe('Chaos.on', () => {
  it("reports 'injected' after onInject, for each injection, with the attempt", async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const fault = new Error('injected');
    const chaos = new Chaos({
      rate: 1,
      latency: 5,
      fault,
      enabled: true,
      clock,
      onInject: (injection) => order.push(`hook ${injection}`),
    });
    chaos.on('injected', ({ injection, attempt }) => order.push(`event ${injection} ${attempt}`));
    const call = outcome(chaos.execute(() => 'real'));
    await clock.advance(5);
    expect((await call).error).toBe(fault);
    expect(order).toEqual(['hook latency', 'event latency 1', 'hook fault', 'event fault 1']);
  });

  it('a listener that throws or rejects is logged and changes nothing', async () => {
    const logger = recordingLogger();
    const chaos = new Chaos({ rate: 1, result: 'canned', enabled: true, logger });
    chaos.on('injected', () => {
      throw new Error('listener broke');
    });
    chaos.on('injected', () => Promise.reject(new Error('async listener broke')));
    for (let i = 0; i < 1000; i++) expect(await chaos.execute(() => 'real')).toBe('canned');
    expect(logger.records.filter((r) => r.msg === 'listener for "injected" threw')).toHaveLength(2000);
  });
});

describe('Chaos.update', () => {
  it('validates the whole result first: a bad value throws, naming it, and nothing changes', () => {
    const chaos = new Chaos({ rate: 0.5, fault: new Error('x') });
    expect(() => chaos.update({ rate: 2 })).toThrow(/Chaos: rate must be/);
    expect(() => chaos.update({ result: 1 })).toThrow(/fault and result cannot both be given/);
    expect(() => chaos.update({ fault: undefined })).toThrow(/needs at least one of fault, latency/);
    expect(() => chaos.update({ fault: class Boom extends Error {} })).toThrow(/got a class/);
    expect(() => chaos.update({ probability: 1 } as never)).toThrow(/unknown option "probability"/);
    expect([chaos.rate, chaos.enabled]).toEqual([0.5, false]);
  });

  it('switches and changes the injection for calls that start afterwards', async () => {
    const chaos = new Chaos<string>({ rate: 1, result: 'canned' });
    expect(await chaos.execute(() => 'real')).toBe('real');
    chaos.update({ enabled: true });
    expect(chaos.enabled).toBe(true);
    expect(await chaos.execute(() => 'real')).toBe('canned');
    chaos.update({ result: 'other' }); // keeps enabled
    expect(await chaos.execute(() => 'real')).toBe('other');
    chaos.disable();
    chaos.update({ result: 'third' }); // a later update keeps what disable() did
    expect(chaos.enabled).toBe(false);
    chaos.enable();
    chaos.update({ rate: 0 });
    expect(chaos.enabled).toBe(true);
    expect(await chaos.execute(() => 'real')).toBe('real');
  });

  it('a call picked before the update is injected as picked', async () => {
    const clock = new FakeClock();
    const fault = new Error('old fault');
    const chaos = new Chaos<string>({ rate: 1, latency: 100, fault, enabled: true, clock });
    const picked = outcome(chaos.execute(() => 'real'));
    chaos.update({ fault: undefined, result: 'canned', latency: 0 });
    await clock.advance(100);
    expect((await picked).error).toBe(fault);
    expect(await chaos.execute(() => 'real')).toBe('canned');
  });
});
