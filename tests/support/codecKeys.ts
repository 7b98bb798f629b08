/**
 * The payload keys every test runs under: the harness's and the product's
 * clients and workers seal every payload with them (platform/codec.ts), as
 * production does. Fixed and public, so they protect nothing; a second key
 * after the first, so every run also decodes through the rotation path.
 */
import { dataConverterFor } from '../../platform/codec';

/** The harness and the product connect with these: clear payloads are refused, as in production. */
export const TEST_CODEC_KEYS =
  'test2:JesVUGX0gn99njAZRSXXy1iY2GTmnXPJ/ak2inK0k28=,test1:NJ0GL+AfssGfFF9XWbNpZXzD/QN+M0zCpfCuQGc41y8=';

/** Clients and workers a test builds itself: clear payloads are refused, as in production. */
export const testDataConverter = dataConverterFor({ codecKeys: TEST_CODEC_KEYS })!;

/**
 * Replaying recorded histories: the fixtures committed before the codec are
 * clear, those recorded since are sealed with the test keys; both replay.
 */
export const replayDataConverter = dataConverterFor({ codecKeys: TEST_CODEC_KEYS, codecAcceptPlaintext: true })!;
