/**
 * `npm run build:node`: the worker, the API and the migrator compiled ahead of
 * time (esbuild) into dist/node/, and the workflows bundled once into
 * dist/node/workflows.js. The image runs these (Dockerfile), and so does the
 * production test profile, whose worker is killed and restarted a hundred
 * times: under tsx a start spent about 2 s loading and transpiling the
 * product's modules, compiled it spends about 0.7 s, and a worker given the
 * prebuilt workflow bundle does not bundle them again at every start.
 *
 * Packages stay external (node_modules is loaded as usual). Each module's
 * `import.meta.url` is replaced with its source file's URL, so what is found
 * beside the sources (db/migrations, web/dist, the workflow interceptors) is
 * found as under tsx: the output runs in the checkout it was built in.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NODE_DIST = path.join(ROOT, 'dist', 'node');

/** Each entry point: an exported run function of a module that also runs itself under tsx. */
const ENTRIES = {
  worker: { module: './worker.ts', run: 'runWorker' },
  api: { module: './api/server.ts', run: 'runApi' },
  migrate: { module: './db/migrate.ts', run: 'runMigrate' },
} as const;

export type NodeEntry = keyof typeof ENTRIES;
export const entryPath = (entry: NodeEntry) => path.join(NODE_DIST, `${entry}.mjs`);
export const WORKFLOW_BUNDLE_PATH = path.join(NODE_DIST, 'workflows.js');

const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return {
        contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};

/** A process starting meanwhile reads the old file or the new one, never half of one. */
async function writeWhole(file: string, contents: string | Uint8Array): Promise<void> {
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, contents);
  await rename(partial, file);
}

/** Builds the three entries and the workflow bundle; each file is written whole, then renamed into place. */
export async function buildNode(options: { log?: (line: string) => void; workflows?: boolean } = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`[build:node] ${line}`));
  const started = Date.now();
  await mkdir(NODE_DIST, { recursive: true });
  for (const [entry, { module, run }] of Object.entries(ENTRIES) as [NodeEntry, (typeof ENTRIES)[NodeEntry]][]) {
    const outfile = entryPath(entry);
    const { outputFiles } = await build({
      stdin: { contents: `import { ${run} } from '${module}';\n${run}();\n`, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      plugins: [sourceUrls],
      outfile,
      write: false,
      logLevel: 'warning',
    });
    for (const file of outputFiles) await writeWhole(file.path, file.contents);
    log(`${path.relative(ROOT, outfile)}`);
  }
  if (options.workflows !== false) {
    // Imported here: building the entries alone does not need the bundler.
    const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
    const { WORKFLOW_BUNDLE_OPTIONS } = await import('../worker');
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
    await writeWhole(WORKFLOW_BUNDLE_PATH, code);
    log(`${path.relative(ROOT, WORKFLOW_BUNDLE_PATH)} (GOVERNANCE_WORKFLOW_BUNDLE)`);
  }
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildNode({ workflows: !process.argv.includes('--no-workflows') });
}
