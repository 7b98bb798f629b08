/**
 * Makes sure Mailpit (the SMTP server the delivery tests and `npm start`
 * send mail to) is available before the tests: MAILPIT_PATH, PATH,
 * .tools/bin, or a Go build into .tools/bin (platform/mailpit.ts).
 */
import { ensureMailpit, findMailpit } from '../platform/mailpit';

const found = findMailpit();
if (found) {
  console.log(`Mailpit: ${found.path} (from ${found.source})`);
} else if (!(await ensureMailpit())) {
  console.error('No Mailpit and no Go toolchain to build it: the delivery tests cannot run.');
  process.exit(1);
}
