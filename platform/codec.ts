/**
 * The payload codec (issue 14 §3): placeholder until the codec lands.
 */
import type { DataConverter } from '@temporalio/common';
import type { Settings } from './config';

/** The data converter every client and worker of the product uses. */
export function dataConverterFor(_settings: Pick<Settings, 'codecKeys'>): DataConverter | undefined {
  return undefined;
}
