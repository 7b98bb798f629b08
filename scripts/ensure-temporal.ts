/**
 * Makes sure the Temporal CLI (dev server) is available before the tests:
 * TEMPORAL_CLI_PATH, PATH, .tools/bin, or a Go build into .tools/bin.
 */
import { ensureTemporalCli, findTemporalCli } from '../platform/temporalCli';

const found = findTemporalCli();
if (found) {
  console.log(`Temporal CLI: ${found.path} (from ${found.source})`);
} else {
  const built = await ensureTemporalCli();
  if (!built) {
    console.log('No Temporal CLI and no Go toolchain: the tests will try the SDK download, which needs internet.');
  }
}
