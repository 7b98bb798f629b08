import { createContext, useContext } from 'react';
import type { Session } from './api/client';

export interface SessionState {
  session: Session;
  /** An auditor: no write control is shown anywhere. */
  readOnly: boolean;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside the signed-in shell');
  return value;
}
