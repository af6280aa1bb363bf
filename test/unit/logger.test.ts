// The daemon's log lines (pino): one JSON object per line with level, ISO
// time and message; levels filter; child fields merge; secrets are redacted
// wherever they sit; the admin API's lines and answers carry a request id.

import { describe, expect, it } from 'vitest';
import type { AdminPorts } from '../../src/api/ports.js';
import { ADMIN_PREFIX } from '../../src/api/routes.js';
import { createAdminApi } from '../../src/api/server.js';
import { createLogger, logLevelFrom, REDACTED_FIELDS } from '../../src/log/logger.js';

function capture(level: 'debug' | 'info' = 'info'): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ level, fields: { appliance: 'nas1' }, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

describe('log lines', () => {
  it('are one JSON object each, with level, ISO time, message and fields', () => {
    const { lines, logger } = capture();
    logger.info('appliance started', { id: 'fabc' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'appliance started', appliance: 'nas1', id: 'fabc' });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    ['info', ['info', 'warn', 'error']],
    ['debug', ['debug', 'info', 'warn', 'error']],
  ] as const)('at level %s, lines of %j are written', (level, written) => {
    const { lines, logger } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l.level)).toEqual(written);
  });

  it('children add their fields', () => {
    const { lines, logger } = capture();
    logger.child({ component: 'scheduler' }).warn('late', { task: 'photos' });
    expect(lines[0]).toMatchObject({ appliance: 'nas1', component: 'scheduler', task: 'photos', msg: 'late' });
  });

  it.each(REDACTED_FIELDS.map((f) => [f]))('never writes a %s, at the top or one level down', (field) => {
    const { lines, logger } = capture();
    logger.info('x', { [field]: 'SECRET-1', request: { [field]: 'SECRET-2', other: 'kept' } });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('SECRET');
    expect(text).toContain('kept');
    expect(lines[0]?.[field]).toBe('[redacted]');
  });
});

describe('the admin API logs with request ids', () => {
  it('answers with an x-request-id, and its failure line carries the same id', async () => {
    const { lines, logger } = capture('debug');
    const ports = new Proxy({} as AdminPorts, { get: () => () => Promise.reject(new Error('the store is gone')) });
    const app = createAdminApi({ ports, token: 'test-token-0123456789', logger });
    try {
      const res = await app.inject({ method: 'GET', url: `${ADMIN_PREFIX}/tasks`, headers: { authorization: 'Bearer test-token-0123456789' } });
      expect(res.statusCode).toBe(500);
      const id = res.headers['x-request-id'];
      expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
      const failure = lines.find((l) => l.msg === 'admin API failure');
      expect(failure).toMatchObject({ level: 'error', reqId: id, server: 'admin', code: 'INTERNAL', appliance: 'nas1' });
      // The token itself never reaches the log, even at debug level.
      expect(JSON.stringify(lines)).not.toContain('test-token-0123456789');
      expect(lines.find((l) => l.msg === 'admin request')).toMatchObject({ level: 'debug', reqId: id, status: 500 });
    } finally {
      await app.close();
    }
  });
});

describe('FERRY_LOG_LEVEL', () => {
  it.each([
    [undefined, 'info'],
    ['', 'info'],
    ['debug', 'debug'],
    ['DEBUG', 'debug'],
    ['warn', 'warn'],
    ['error', 'error'],
  ] as const)('%s -> %s', (given, level) => {
    expect(logLevelFrom(given === undefined ? {} : { FERRY_LOG_LEVEL: given })).toBe(level);
  });

  it.each(['verbose', 'trace', ' info', '1'])('refuses %j, naming the levels there are', (given) => {
    expect(() => logLevelFrom({ FERRY_LOG_LEVEL: given })).toThrow(/give one of debug, info, warn, error/);
  });
});
