import { useRef } from 'react';

/** A fresh Idempotency-Key: a UUID, or 16 random bytes in hex where randomUUID is absent (plain HTTP). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One Idempotency-Key per distinct body: the same body sent again (a double
 * click, a retry) is the same request; a corrected body is a new one (the API
 * keeps answers 24 h, and a reused key with another body is 422).
 */
export function useIdempotencyKeys(): (body: unknown) => string {
  const keys = useRef(new Map<string, string>());
  return (body) => {
    const text = JSON.stringify(body);
    let key = keys.current.get(text);
    if (!key) keys.current.set(text, (key = newIdempotencyKey()));
    return key;
  };
}
