// Structured logging through pino (the logger fastify itself uses): one JSON
// line per event on stderr, with levels, the appliance's fields, an ISO time,
// and secrets redacted wherever they appear in a line's fields. Layers take a
// Logger by injection, so tests can capture what was logged; the servers get
// the same pino instance, so their request ids and errors land in the same
// stream.

import pino, { type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /** The pino instance behind it, for fastify's `loggerInstance`; absent for the silent logger. */
  readonly pino?: unknown;
}

/**
 * Field names whose values never reach a log line: the admin token, request
 * authorization, invites (a pairing secret until used), passphrases, sealed
 * exports and key material.
 */
export const REDACTED_FIELDS = ['token', 'authorization', 'invite', 'passphrase', 'sealed', 'secretKey', 'privateKey', 'cookie'] as const;
const redactPaths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `req.headers.${f}`]);

function wrap(p: Pino): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => wrap(p.child(fields)),
    pino: p,
  };
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; fields?: LogFields } = {}): Logger {
  const write = options.write;
  const destination = write ? { write: (line: string) => write(line.trimEnd()) } : pino.destination({ dest: 2, sync: true });
  const p = pino(
    {
      level: options.level ?? 'info',
      base: { ...options.fields },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    destination,
  );
  return wrap(p);
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * The daemon's level from `FERRY_LOG_LEVEL` (info when unset): debug adds a
 * line per btrfs command with its arguments and duration, which is how an
 * admin (or the bench) sees what one run costs. Anything else is refused at
 * start rather than quietly logging at another level.
 */
export function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel {
  const given = env['FERRY_LOG_LEVEL'];
  if (given === undefined || given === '') return 'info';
  const level = LEVELS.find((l) => l === given.toLowerCase());
  if (!level) throw new Error(`FERRY_LOG_LEVEL is '${given}': give one of ${LEVELS.join(', ')}`);
  return level;
}

/** A logger that drops everything: the default where none is injected. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
