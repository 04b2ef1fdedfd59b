// Who is the learner? An anonymous id in a signed, HttpOnly, SameSite=Strict cookie. A real sign-in
// can replace this later by implementing the same Identity interface.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringifySetCookie } from 'cookie';

export interface Identity {
  /** The learner id of a request, or null when it carries no valid credential. */
  identify(req: IncomingMessage): string | null;
  /** Like identify, but gives a new anonymous learner a cookie on the response. */
  ensure(req: IncomingMessage, res: ServerResponse): string;
}

export const COOKIE_NAME = 'atelier_learner';
const ID = /^[A-Za-z0-9_-]{22}$/;
/** id.issuedAt.signature, as sent in a Cookie header (bounded: a signed value is about 80 characters) */
const COOKIE_VALUE = new RegExp(`(?:^|;)\\s*${COOKIE_NAME}=([A-Za-z0-9_.-]{1,200})(?=;|\\s|$)`, 'g');

export interface CookieIdentityOptions {
  secret: Buffer;
  secure: boolean;
  maxAgeSeconds: number;
  /** the clock that issues and expires cookies (tests move it) */
  now?: () => number;
}

export function anonymousCookieIdentity(opts: CookieIdentityOptions): Identity {
  const now = opts.now ?? Date.now;
  const sign = (payload: string) => createHmac('sha256', opts.secret).update(payload).digest('base64url');
  const verify = (value: string): string | null => {
    // value = id.issuedAt.signature; issuedAt bounds the cookie's life server-side too.
    const [id, issued, sig] = value.split('.');
    if (!id || !issued || !sig || !ID.test(id) || !/^\d{1,15}$/.test(issued)) return null;
    const expected = Buffer.from(sign(`${id}.${issued}`));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (now() - Number(issued) > opts.maxAgeSeconds * 1000) return null;
    return id;
  };
  // Every cookie of that name is tried, whatever else the header carries: other cookies of the host
  // (cookies ignore ports), however many or large, never cost a learner their identity.
  const identify = (req: IncomingMessage) => {
    let tried = 0;
    for (const [, value] of (req.headers.cookie ?? '').matchAll(COOKIE_VALUE)) {
      const id = value ? verify(value) : null;
      if (id || ++tried >= 8) return id; // a few candidates at most: each costs an HMAC
    }
    return null;
  };
  return {
    identify,
    ensure(req, res) {
      const known = identify(req);
      if (known) return known;
      const id = randomBytes(16).toString('base64url');
      const issued = String(now());
      res.appendHeader(
        'Set-Cookie',
        stringifySetCookie({
          name: COOKIE_NAME,
          value: `${id}.${issued}.${sign(`${id}.${issued}`)}`,
          httpOnly: true,
          sameSite: 'strict',
          secure: opts.secure,
          path: '/',
          maxAge: opts.maxAgeSeconds,
        }),
      );
      return id;
    },
  };
}
