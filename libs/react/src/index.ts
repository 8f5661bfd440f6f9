// Public surface of @seqline/react: React hooks over @seqline/client.
export { SeqlineProvider, useSeqlineClient, type SeqlineProviderProps } from './context.js';
export { useConnectionStatus, useExecute, useLiveQuery, useQuery, type ExecuteState, type QueryState, type QueryStatus } from './hooks.js';
export { openLiveQueries, type LiveQueryOptions, type LiveSnapshot, type LiveStatus } from './live-registry.js';
export type { ExecuteOptions, ExecuteResult } from '@seqline/client';
