/**
 * `npm run production:up`: starts the production-shaped profile by hand
 * (scripts/production/profile.ts) and prints what runs where. Ctrl-C stops
 * it and removes its temporary folder.
 */
import { startProductionProfile } from './profile';

const profile = await startProductionProfile({ keep: process.argv.includes('--keep') });
console.log(`
Production profile is running (Ctrl-C stops it)
  API           ${profile.apiUrl}   (pid ${profile.apiPid()}, log ${profile.logs.api})
  worker        pid ${profile.workerPid()}, task queue ${profile.taskQueue}   (log ${profile.logs.worker})
  Temporal      ${profile.temporalAddress}  namespace ${profile.namespace}, mTLS   (log ${profile.logs.temporal})
  PostgreSQL    127.0.0.1:${profile.postgres.port}   databases ${Object.values(profile.databases).join(', ')}
  app database  ${profile.appDatabaseUrl.replace(/:[^:@/]+@/, ':***@')}   (runtime role; owner governance_owner)
  certificates  ${profile.tls.caPath.replace(/ca\.crt$/, '')}   (server name ${profile.tls.serverName})
  settings      deploy/app.env + the addresses above (folder ${profile.root})

The API runs with NODE_ENV=production: create a user and token with
  DATABASE_URL='${profile.appDatabaseUrl}' npm run users -- create ada --name Ada --email ada@example.com --roles admin
Temporal CLI:
  .tools/bin/temporal --address ${profile.temporalAddress} --tls-cert-path ${profile.tls.certPath} --tls-key-path ${profile.tls.keyPath} --tls-ca-path ${profile.tls.caPath} --tls-server-name ${profile.tls.serverName} workflow list
`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('[production] stopping…');
    void profile.stop().then(() => process.exit(0));
  });
}
