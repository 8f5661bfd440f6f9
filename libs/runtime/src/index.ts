// Shared runtime for every Seqline process: configuration, logs, lifecycle, health, telemetry.
export { ConfigError, AbortedError } from './errors.js';
export { bool, describeConfig, int, oneOf, optionalInt, optionalStr, parseConfig, port, str, urls } from './config.js';
export type { ConfigField, ConfigOf, ConfigSchema, Env } from './config.js';
export { createLogger, LOG_LEVELS, memoryLogger } from './log.js';
export type { LogFields, Logger, LoggerOptions, LogLevel } from './log.js';
export { backoffDelay, DEFAULT_BACKOFF, realTimers, RunningState, sleep } from './running-state.js';
export type { BackoffOptions, Timers } from './running-state.js';
export { DRAIN_TIMEOUT_MS, EXIT, runService } from './service.js';
export { ServiceHost } from './service-host.js';
export { serviceMain } from './main.js';
export type { ServiceMain } from './main.js';
export type { ExitCode, RunOptions, Service, SignalSource } from './service.js';
export { checkHealth, startHealthServer } from './health.js';
export type { HealthCheck, HealthReport, HealthServer } from './health.js';
export { GrpcHealth, startGrpcServer } from './grpc.js';
export type { GrpcServer, GrpcServiceEntry } from './grpc.js';
export { meter, tracer, withSpan } from './telemetry.js';
export { hashPassword, parseStoredHash, SCRYPT_PARAMS, verifyPassword } from './password.js';
