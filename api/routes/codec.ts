/**
 * The codec server the Temporal UI calls to show sealed histories in clear
 * (its "codec endpoint"): `POST /codec/decode` and `POST /codec/encode` in
 * Temporal's codec-server format, `{ payloads: [{ metadata: { k: base64 },
 * data: base64 }] }` both ways, the namespace in `X-Namespace`. Not part of the
 * product's OpenAPI: the format is Temporal's, and its only client is the UI.
 *
 * Decoded payloads carry personal data into a browser, so:
 * - the caller is authenticated like any API caller (`Authorization: Bearer
 *   <API token>`), or, where the deployment signs in through the company's
 *   identity provider (api/oidc.ts), by the provider's access token that the
 *   Temporal UI passes for its signed-in user (TEMPORAL_CODEC_PASS_ACCESS_TOKEN):
 *   the provider must vouch for it at its userinfo endpoint, and it stands for
 *   the active console user linked to that identity; and the caller must read every
 *   case (OVERSIGHT_ROLES): anyone else could read cases through it that the
 *   API would not show them;
 * - CORS answers only the Temporal UI's own origin (TEMPORAL_UI_URL), with
 *   credentials, never a wildcard; any other origin gets no CORS header;
 * - each decode is an audit event (`codec.decoded`): who read how many
 *   payloads of which namespace, never what they read.
 *
 * Encoding makes payloads the worker trusts, so it is an admin's alone, and
 * audited (`codec.encoded`); the UI needs it only for its write actions,
 * which the production shape turns off.
 */
import { randomUUID } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { appendAuditEvent } from '../../db/audit';
import { hasAnyRole, OVERSIGHT_ROLES, type Role } from '../../domain/roles';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../platform/codec';
import { TOKEN_PREFIX, authenticate, type AppEnv } from '../auth';
import { oidcConfigFrom, providerAccessTokens } from '../oidc';
import { ApiError } from '../errors';
import type { AppDeps } from './common';

/** The Temporal UI sends these; anything else in a preflight is refused. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-namespace'];
/** A history page's payloads, with room to spare; a payload is at most 2 MiB by Temporal's default limit. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_PAYLOADS = 10_000;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64');
const PayloadsSchema = z
  .object({
    payloads: z
      .array(
        z.object({
          metadata: z.record(z.string().max(200), base64).nullish(),
          data: base64.nullish(),
        }),
      )
      .max(MAX_PAYLOADS),
  })
  .strict();

type JsonPayload = z.infer<typeof PayloadsSchema>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
  data: data ? Buffer.from(data, 'base64') : undefined,
});

const toJson = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(data ?? []).toString('base64'),
});

/** CORS for the Temporal UI's origin only; a preflight from anywhere else is refused. */
function uiOriginOnly(uiOrigin: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const allowed = origin === uiOrigin;
    if (c.req.method === 'OPTIONS') {
      const asked = (c.req.header('access-control-request-headers') ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const method = c.req.header('access-control-request-method');
      if (!allowed || method !== 'POST' || asked.some((h) => !ALLOWED_HEADERS.includes(h))) {
        throw new ApiError('FORBIDDEN', `the codec server answers only the Temporal UI at ${uiOrigin}`);
      }
      c.header('access-control-allow-origin', uiOrigin);
      c.header('access-control-allow-credentials', 'true');
      c.header('access-control-allow-methods', 'POST');
      c.header('access-control-allow-headers', ALLOWED_HEADERS.join(', '));
      c.header('access-control-max-age', '600');
      c.header('vary', 'Origin');
      return c.body(null, 204);
    }
    // The answer depends on the origin: caches must keep one per origin.
    c.header('vary', 'Origin');
    if (allowed) {
      c.header('access-control-allow-origin', uiOrigin);
      c.header('access-control-allow-credentials', 'true');
    }
    await next();
  };
}

function requireAnyRole(roles: readonly Role[], why: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasAnyRole(c.get('user'), roles)) throw new ApiError('FORBIDDEN', why);
    await next();
  };
}

export function codecRoutes({ db, temporal, settings }: AppDeps) {
  const app = new Hono<AppEnv>();
  // The client's own codec: the codec server holds exactly the keys the API and worker use.
  const codec = temporal.options.loadedDataConverter.payloadCodecs.find((c) => c instanceof AesGcmCodec);
  // For display: a clear payload shows as it is, one that fails authentication as it came (still sealed).
  const display = codec?.withRefusalMode('keep');

  const readPayloads = async (c: { req: { json(): Promise<unknown> } }) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError('BAD_REQUEST', 'invalid body: send JSON { "payloads": [{ "metadata": {…}, "data": "…" }] }');
    }
    const parsed = PayloadsSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({
        field: ['body', ...issue.path.map(String)].join('.'),
        message: issue.message,
      }));
      throw new ApiError('BAD_REQUEST', `invalid body: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`, {
        fields,
      });
    }
    return parsed.data.payloads.map(fromJson);
  };

  app.use('/codec/*', uiOriginOnly(new URL(settings.temporalUiUrl).origin));
  app.use('/codec/*', bodyLimit({ maxSize: MAX_BODY_BYTES }));
  const viaProvider = providerAccessTokens(db, oidcConfigFrom(process.env));
  const byApi = authenticate(db);
  app.use('/codec/*', async (c, next) => {
    const token = /^Bearer (\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    // The product's own tokens start with gov_; anything else is the provider's, when one is configured.
    if (!viaProvider || !token || token.startsWith(TOKEN_PREFIX)) return byApi(c, next);
    const user = await viaProvider(token);
    if (!user)
      throw new ApiError(
        'UNAUTHENTICATED',
        'the identity provider does not vouch for this access token, or it names no active console user linked to that identity',
      );
    c.set('user', user);
    return next();
  });

  app.post(
    '/codec/decode',
    requireAnyRole(
      OVERSIGHT_ROLES,
      `decoding payloads needs a role that reads every case: ${OVERSIGHT_ROLES.join(', ')}`,
    ),
    async (c) => {
      const payloads = await readPayloads(c);
      const decoded = display ? await display.decode(payloads) : payloads;
      await appendAuditEvent(db, {
        idempotencyKey: `codec.decoded:${randomUUID()}`,
        actorId: c.get('user').id,
        action: 'codec.decoded',
        payload: {
          namespace: c.req.header('x-namespace') ?? null,
          payloads: payloads.length,
          // Those still sealed after decoding: unknown key or failed authentication.
          undecoded: decoded.filter((p, i) => p === payloads[i] && codec && isSealed(p)).length,
          origin: c.req.header('origin') ?? null,
          requestId: c.get('requestId'),
        },
      });
      return c.json({ payloads: decoded.map(toJson) }, 200);
    },
  );

  app.post(
    '/codec/encode',
    requireAnyRole(['admin'], 'encoding makes payloads the worker trusts: only an admin may, and it is audited'),
    async (c) => {
      const payloads = await readPayloads(c);
      const encoded = codec ? await codec.encode(payloads) : payloads;
      await appendAuditEvent(db, {
        idempotencyKey: `codec.encoded:${randomUUID()}`,
        actorId: c.get('user').id,
        action: 'codec.encoded',
        payload: {
          namespace: c.req.header('x-namespace') ?? null,
          payloads: payloads.length,
          origin: c.req.header('origin') ?? null,
          requestId: c.get('requestId'),
        },
      });
      return c.json({ payloads: encoded.map(toJson) }, 200);
    },
  );

  return app;
}

function isSealed(payload: Payload): boolean {
  return Buffer.from(payload.metadata?.encoding ?? []).toString('utf8') === ENCRYPTED_ENCODING;
}
