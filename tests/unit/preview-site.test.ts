// The start-up warning of a deployment whose preview shares a site with the course (cookies, HSTS and site
// data ignore ports and cross subdomains): production wants the preview on another registrable domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previewSiteWarning, webSettings } from '../../server/http/settings.ts';

const settings = (env: Record<string, string>) => webSettings({ ATELIER_SECRET: 'x'.repeat(32), ...env });

test('a preview on another registrable domain gets no warning', () => {
  const s = settings({
    ATELIER_SITE_ORIGINS: 'https://atelier.example.org',
    ATELIER_PREVIEW_ORIGIN: 'https://atelier-preview.example.net',
  });
  assert.equal(previewSiteWarning(s), null);
});

test('a preview on a subdomain of the site, or on its host name, is named in the warning', () => {
  const sub = settings({
    ATELIER_SITE_ORIGINS: 'https://atelier.example.org',
    ATELIER_PREVIEW_ORIGIN: 'https://preview.atelier.example.org',
  });
  assert.match(previewSiteWarning(sub) ?? '', /shares a site with https:\/\/atelier\.example\.org/);
  assert.match(previewSiteWarning(settings({})) ?? '', /ATELIER_PREVIEW_ORIGIN/);
});
