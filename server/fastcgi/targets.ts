// Where a lab's web server reaches PHP-FPM over TCP, so that a capture can see it. The other labs of the
// chapter use a unix socket (nginx-local, apache-local, finish-request): no packet, nothing to capture.
// tests/unit/fastcgi-targets.test.ts checks these against the lab definitions.
export const FASTCGI_OVER_TCP: Readonly<Record<string, { host: string; port: number }>> = {
  'nginx-remote': { host: 'php', port: 9000 },
  'apache-remote': { host: 'php', port: 9000 },
};
