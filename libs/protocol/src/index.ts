// @seqline/protocol: the client contract shared by every service (docs/protocol.md).
export { unaryCall } from './grpc.js';
export type { UnaryMethod } from './grpc.js';
export { ERRORS, ERROR_CODE_METADATA, ERROR_STATEMENT_METADATA, isErrorCode, ProtocolError, statementIndex, toProtocolError, WS_CLOSE } from './errors.js';
export type { ErrorCode, WsCloseCode } from './errors.js';
export { batchControlSchema, clientMessageSchema, orderKeySchema, FrameError, MessageError, parseClientMessage, seqIdSchema, serverMessageSchema, SUBSCRIPTION_ID_PATTERN } from './ws-messages.js';
export type { BatchControl, ClientMessage, ClientMessageWire, OrderKey, ServerMessage, SubscribeRequest } from './ws-messages.js';
export { dataTypeForOid, dateDays, encodeCell, microsToTimestampText, RAW_TEXT_OIDS, timeMicros, timestampMicros } from './cells.js';
export type { Cell } from './cells.js';
export { columnFlags, dmlMessage, schemaEntry } from './results.js';
export type { DdlResult, DmlResult, ErrorBody, QueryResult, SchemaEntry, SchemaFlag, StatementResult, SuccessBody } from './results.js';
export { RemoteCatalog } from './remote-catalog.js';
export type { CatalogSnapshot } from './remote-catalog.js';
export { CONSUMER_TOKEN_PATTERN, parseAckRequest, parseConsumeRequest, parseDropRequest, parseReleaseRequest, START_POSITIONS } from './consume.js';
export type { AckRequest, BodyParse, ConsumedChange, ConsumedRow, ConsumeRequest, ConsumeResponse, DropRequest, ReleaseRequest, StartPosition } from './consume.js';
