/**
 * Finds (or builds) the Temporal CLI that provides the dev server. These
 * machines cannot download it, so in order: $TEMPORAL_CLI_PATH, `temporal` on
 * PATH, the git-ignored tools folder, a Go build into that folder. When none
 * works the caller falls back to the SDK's own download (needs internet).
 * How a Go tool is found or built: ./goTool.ts.
 */
import { buildGoTool, ensureGoTool, findGoTool, type GoTool } from './goTool';

export { TOOLS_BIN } from './goTool';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const TEMPORAL_CLI: GoTool = {
  name: 'the Temporal CLI',
  command: 'temporal',
  pathVariable: 'TEMPORAL_CLI_PATH',
  goPackage: 'github.com/temporalio/cli/cmd/temporal',
  version: TEMPORAL_CLI_VERSION,
  buildTime: 'about 3–4 minutes on 2 cores, once',
  progress: 'still building',
};

export function findTemporalCli(): { path: string; source: string } | undefined {
  return findGoTool(TEMPORAL_CLI);
}

/** Builds the CLI with Go into .tools/bin, printing progress while it works. */
export async function buildTemporalCli(log: (line: string) => void = console.log): Promise<string | undefined> {
  return buildGoTool(TEMPORAL_CLI, log);
}

export async function ensureTemporalCli(log: (line: string) => void = console.log): Promise<string | undefined> {
  return ensureGoTool(TEMPORAL_CLI, log);
}
