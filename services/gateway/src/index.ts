// @seqline/gateway: the service (for tests and embedding), its configuration and the Backend
// contract it serves through.
export { gatewayConfig, gatewayConfigSchema } from './config.js';
export type { GatewayConfig } from './config.js';
export { GATEWAY_VERSION, GatewayService, startGateway } from './gateway.js';
export type { GatewayDeps, GatewayInfo } from './gateway.js';
export type { Backend, Caller, ExecuteCall, LoginPolicy, QueryCall, UserRecord } from './backend.js';
export { createGrpcBackend } from './grpc-backend.js';
export type { GrpcBackendOptions } from './grpc-backend.js';
export { JwtCodec } from './jwt.js';
export type { Claims, TokenType, VerifyResult } from './jwt.js';
export { RateLimiter } from './rate-limit.js';
export type { SqlParser } from './sql/dispatch.js';
export { ChangeHub } from './live/change-hub.js';
export type { TailListener } from './live/change-hub.js';
export { lastChangeSeq, readHistory } from './live/history.js';
export type { History, HistoryOptions } from './live/history.js';
export { LiveSubscription } from './live/subscription.js';
export type { BatchControl, LiveEvent, LiveTail, Row, SubscriptionDeps, SubscriptionOptions } from './live/subscription.js';
