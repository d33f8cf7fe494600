import { describe, expect, it } from 'vitest';
import { ProxyChecks, type ProxyProbe } from './proxy-checks.js';

interface FakeRequest {
  readonly trust: unknown;
  readonly forwarded: boolean;
}

const probe: ProxyProbe<FakeRequest> = {
  trustSetting: (req) => req.trust,
  hasForwardedFor: (req) => req.forwarded,
  isOff: (setting) => setting === false,
  permissive: 'permissive!',
  unexpected: 'unexpected!',
};

function logger() {
  const warnings: Array<{ msg: string; attrs: unknown }> = [];
  const ignore = (): void => {};
  return {
    warnings,
    logger: {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: (msg: string, attrs?: unknown) => warnings.push({ msg, attrs }),
    },
  };
}

describe('ProxyChecks', () => {
  it('warns once about a permissive setting and stops checking', () => {
    const log = logger();
    const checks = new ProxyChecks('rateLimit', undefined, log.logger, probe);
    checks.inspect({ trust: true, forwarded: true });
    checks.inspect({ trust: true, forwarded: true });
    expect(log.warnings).toEqual([{ msg: 'permissive!', attrs: { code: 'PERMISSIVE_TRUST_PROXY', trustProxy: true } }]);
    expect(checks.pending).toBe(false);
  });

  it('watches for X-Forwarded-For while no proxy is trusted, warns once, then stops', () => {
    const log = logger();
    const checks = new ProxyChecks('rateLimit', { trustProxy: true }, log.logger, probe);
    checks.inspect({ trust: false, forwarded: false });
    expect(checks.pending).toBe(true);
    checks.inspect({ trust: false, forwarded: true });
    checks.inspect({ trust: false, forwarded: true });
    expect(log.warnings.map((w) => w.msg)).toEqual(['unexpected!']);
    expect(checks.pending).toBe(false);
  });

  it('is silent with validate false, and survives a logger that throws', () => {
    const silent = new ProxyChecks('rateLimit', false, logger().logger, probe);
    expect(silent.pending).toBe(false);
    const throwing = {
      debug() {},
      info() {},
      error() {},
      warn() {
        throw new Error('logger down');
      },
    };
    const checks = new ProxyChecks('rateLimit', true, throwing, probe);
    expect(() => checks.inspect({ trust: true, forwarded: true })).not.toThrow();
  });

  it('refuses a bad validate option', () => {
    const log = logger().logger;
    expect(() => new ProxyChecks('rl', 'yes' as never, log, probe)).toThrow(
      'rl: validate must be a boolean or an object { trustProxy?, xForwardedForHeader? }, got "yes"',
    );
    expect(() => new ProxyChecks('rl', { ip: true } as never, log, probe)).toThrow(
      'rl: validate has no check named "ip"; the checks are trustProxy and xForwardedForHeader',
    );
  });
});
