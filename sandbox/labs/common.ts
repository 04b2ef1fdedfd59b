// Pieces shared by the lab definitions: the services of the image (started through their Debian init
// scripts: there is no systemd in a lab host), the Linux capabilities each one needs, and PHP-FPM's pool file.
import type { LabInput } from './schema.ts';

type HostInput = LabInput['hosts'][number];
type Services = NonNullable<HostInput['services']>;

/** Debian's PHP-FPM pool, where `listen` says where PHP-FPM waits for FastCGI requests. */
export const POOL = '/etc/php/8.2/fpm/pool.d/www.conf';

/** The page of the chapter (title PHP-FPM and the PHP version), in sandbox/labs/files/. */
export const CHAPTER_PAGE = 'index.php';

/**
 * The unix socket of the local labs. The chapter's /var/run/php7-fpm/DOMAINNAME.socket names the socket after
 * the site; today's Debian keeps PHP-FPM's sockets in /run/php (/var/run is a link to /run), a directory the
 * init script creates at each start, owned by www-data. The lab's site is http://localhost/.
 */
export const SOCKET = '/run/php/localhost.sock';

/** The chapter's own socket path, which fails as written with today's packages (a diagnosis says why). */
export const CHAPTER_SOCKET = '/var/run/php7-fpm/DOMAINNAME.socket';

/** `service NAME start|stop|status`, through the Debian init script (services of the image). */
function initScript(script: string) {
  return { start: `service ${script} start`, stop: `service ${script} stop`, status: `service ${script} status` };
}

export const SERVICES = {
  apache2: initScript('apache2'),
  nginx: initScript('nginx'),
  'php-fpm': initScript('php8.2-fpm'),
} satisfies Services;

type ServiceName = keyof typeof SERVICES;

/**
 * Capabilities each service needs under `--cap-drop ALL --security-opt no-new-privileges` (measured: each one
 * removed makes the service fail; see docs/labs.md for what fails without it).
 *   CHOWN            apache2ctl chowns its runtime dirs; nginx its temp dirs; PHP-FPM /run/php and its socket
 *   SETUID, SETGID   the workers drop from root to www-data
 *   DAC_OVERRIDE     root writes into places owned by www-data: nginx's logs, PHP-FPM's pid file and socket in /run/php
 *   FOWNER           PHP-FPM's init script chmods /run/php once it belongs to www-data
 *   KILL             PHP-FPM's master (root) stops its www-data workers with signals
 *   NET_BIND_SERVICE port 80 (Docker already lets containers bind low ports; Kubernetes and others do not)
 */
const SERVICE_CAPABILITIES: Record<ServiceName, string[]> = {
  apache2: ['CHOWN', 'SETUID', 'SETGID', 'NET_BIND_SERVICE'],
  nginx: ['CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID', 'NET_BIND_SERVICE'],
  'php-fpm': ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL'],
};

/**
 * What the learner's root shell needs on every host: read every log (nginx's belong to www-data) and
 * stop any process, www-data's included.
 */
const SHELL_CAPABILITIES = ['DAC_OVERRIDE', 'KILL'];

/** The `services` and `capabilities` of a host that runs these services. */
export function runs(...names: ServiceName[]): Pick<HostInput, 'services' | 'capabilities'> {
  const caps = new Set(SHELL_CAPABILITIES);
  for (const n of names) for (const c of SERVICE_CAPABILITIES[n]) caps.add(c);
  return {
    services: Object.fromEntries(names.map((n) => [n, SERVICES[n]])),
    capabilities: [...caps].sort(),
  };
}

/** Shell: set PHP-FPM's `listen` and fail when the pool file did not take it (a Debian change would show). */
export function setListen(value: string): string {
  return `sed -i 's|^listen = .*|listen = ${value}|' ${POOL} && grep -qx 'listen = ${value}' ${POOL}`;
}

/** Shell, as the chapter shows it: make PHP-FPM listen there (`listen` of its pool), then restart it. */
export function listenShown(value: string): string {
  return `sed -i 's|^listen = .*|listen = ${value}|' ${POOL} && service php8.2-fpm restart`;
}

/** Shell, as the chapter shows it: check the configuration, then reload gracefully. */
export const RELOAD_SHOWN = {
  apache2: 'apache2ctl configtest && service apache2 reload',
  nginx: 'nginx -t && service nginx reload',
};

/**
 * A graceful reload is applied in the background (new workers; old ones finish their requests): runners wait
 * this long after one before anything is measured (a step's `settle`).
 */
export const AFTER_RELOAD = 'sleep 1';

/** Shell, for commands the student never sees (diagnoses' examples): reload, then wait until it applies. */
export const RELOAD = {
  apache2: `${RELOAD_SHOWN.apache2} && ${AFTER_RELOAD}`,
  nginx: `${RELOAD_SHOWN.nginx} && ${AFTER_RELOAD}`,
};

/** Shell: the HTTP status of a URL on this host, on its own line. */
export function httpStatus(url: string): string {
  return `curl -s -o /dev/null -m 10 -w '%{http_code}\\n' ${url}`;
}

/** What the chapter's page shows when PHP-FPM ran it: the title and a PHP version. */
export const PAGE_OK = {
  stdoutIncludes: ['<title>PHP-FPM</title>', '<h1>PHP-FPM</h1>'],
  stdoutMatches: '<h2>\\d+\\.\\d+\\.\\d+</h2>',
};
