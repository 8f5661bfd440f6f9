// The client the hooks use, given once near the root of the tree.
import type { SeqlineClient } from '@seqline/client';
import { createContext, createElement, useContext, type ReactNode } from 'react';

const ClientContext = createContext<SeqlineClient | undefined>(undefined);

export interface SeqlineProviderProps {
  readonly client: SeqlineClient;
  readonly children?: ReactNode;
}

/** Makes `client` the one every hook below it uses. The caller owns it (and closes it). */
export function SeqlineProvider({ client, children }: SeqlineProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client; throws outside a `SeqlineProvider`. */
export function useSeqlineClient(): SeqlineClient {
  const client = useContext(ClientContext);
  if (client === undefined) throw new Error('a @seqline/react hook was used outside <SeqlineProvider client={…}>');
  return client;
}
