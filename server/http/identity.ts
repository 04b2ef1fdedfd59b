// Who is the learner? An anonymous id in a signed, HttpOnly, SameSite=Strict cookie. A real sign-in
// can replace this later by implementing the same Identity interface.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';

export interface Identity {
  /** The learner id of a request, or null when it carries no valid credential. */
  identify(req: IncomingMessage): string | null;
  /** Like identify, but gives a new anonymous learner a cookie on the response. */
  ensure(req: IncomingMessage, res: ServerResponse): string;
}

export const COOKIE_NAME = 'atelier_learner';
const ID = /^[A-Za-z0-9_-]{22}$/;

export function anonymousCookieIdentity(opts: { secret: Buffer; secure: boolean; maxAgeSeconds: number }): Identity {
  const sign = (payload: string) => createHmac('sha256', opts.secret).update(payload).digest('base64url');
  const verify = (value: string): string | null => {
    // value = id.issuedAt.signature; issuedAt bounds the cookie's life server-side too.
    const [id, issued, sig] = value.split('.');
    if (!id || !issued || !sig || !ID.test(id) || !/^\d{1,15}$/.test(issued)) return null;
    const expected = Buffer.from(sign(`${id}.${issued}`));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (Date.now() - Number(issued) > opts.maxAgeSeconds * 1000) return null;
    return id;
  };
  const identify = (req: IncomingMessage) => {
    const header = req.headers.cookie;
    if (!header || header.length > 8192) return null;
    const value = parseCookie(header)[COOKIE_NAME];
    return value ? verify(value) : null;
  };
  return {
    identify,
    ensure(req, res) {
      const known = identify(req);
      if (known) return known;
      const id = randomBytes(16).toString('base64url');
      const issued = String(Date.now());
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
