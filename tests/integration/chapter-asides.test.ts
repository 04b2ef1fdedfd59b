// What the chapter's asides say happens with the source's own commands, on today's software, where no lab
// check can say it (a check runs inside a host; these need a host gone, or the Docker engine itself):
// - Apache httpd, its PHP-FPM host gone from the network: 500 and AH00898 (DNS lookup failure for: php),
//   after the resolver's timeout;
// - Nginx, its PHP-FPM host gone: `nginx -t` refuses the configuration, host not found in upstream "php";
// - `docker run --link php-05-02:php` while that container does not exist: refused by the engine.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { getLab } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import { labImageTag } from '../../sandbox/image/tag.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId } from '../../server/sandbox/provider.ts';
import { docker, labContainers } from '../helpers/engine.ts';
import { hostExec } from '../helpers/lab-ops.ts';

const config = loadConfig({ ...process.env, ATELIER_TEST: '1' });
const provider = new DockerProvider({ config, log: () => {} });

before(() => provider.init());
after(() => provider.close());

/** A lab of this kind with its solution run up to and including `upTo`. */
async function labAfter(name: string, upTo: string): Promise<string> {
  const definition = getLab(name) ?? assert.fail(`no lab ${name}`);
  const labId = newLabId();
  await provider.createLab({ labId, owner: 'asides-test', definition, expiresAt: new Date(Date.now() + 3_600_000) });
  for (const step of definition.solution.slice(0, definition.solution.findIndex((s) => s.id === upTo) + 1)) {
    const r = await hostExec(provider, definition)(labId, step.host, stepCommand(step), { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, `${name} step ${step.id}: ${r.stdout}${r.stderr}`);
  }
  return labId;
}

/** Stops a host's container: it leaves the lab's network and its name no longer resolves. */
async function stopHost(labId: string, host: string): Promise<void> {
  const container = (await labContainers(labId)).find((c) => c.Labels['atelier.host'] === host) ?? assert.fail(`no host ${host}`);
  await docker.getContainer(container.Id).stop({ t: 1 });
}

describe('Apache httpd, the PHP-FPM host gone (aside « Avec les logiciels d’aujourd’hui », Apache)', () => {
  let labId = '';
  before(async () => {
    labId = await labAfter('apache-remote', 'reload');
  });
  after(() => provider.destroyLab(labId));

  test('answers 500 with AH00898 DNS lookup failure for: php, after the resolver gives up', async () => {
    const page = await provider.exec(labId, 'web', "curl -s -o /dev/null -w '%{http_code}' http://localhost/");
    assert.equal(page.stdout, '200', 'the page works before');
    await stopHost(labId, 'php');
    const r = await provider.exec(
      labId,
      'web',
      "curl -s -o /dev/null -m 60 -w '%{http_code} %{time_total}' http://localhost/; echo; tail -n 3 /var/log/apache2/error.log",
      { timeoutMs: 90_000 },
    );
    const [status, seconds] = r.stdout.split('\n')[0]!.split(' ');
    console.log(`# Apache without the php host: ${status} after ${seconds} s`);
    assert.equal(status, '500', r.stdout);
    assert.match(r.stdout, /AH00898: DNS lookup failure for: php /);
  });
});

describe('Nginx, the PHP-FPM host gone (aside of the Nginx demo)', () => {
  let labId = '';
  before(async () => {
    labId = await labAfter('nginx-remote', 'point-at-php');
  });
  after(() => provider.destroyLab(labId));

  test('nginx -t refuses the configuration: host not found in upstream "php"', async () => {
    await stopHost(labId, 'php');
    const started = Date.now();
    const r = await provider.exec(labId, 'web', 'nginx -t', { timeoutMs: 90_000 });
    console.log(`# nginx -t without the php host: exit ${r.exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /\[emerg\] \d+#\d+: host not found in upstream "php" in \/etc\/nginx\/conf\.d\/default\.conf:\d+/);
  });
});

describe('docker run --link php-05-02:php before php-05-02 exists (aside of the Nginx demo)', () => {
  test('the engine refuses the container', async () => {
    const absent = `php-05-02-absent-${randomBytes(4).toString('hex')}`;
    const name = `atelier-test-link-${randomBytes(4).toString('hex')}`;
    let created: string | undefined;
    try {
      const error = await docker
        .createContainer({ name, Image: labImageTag(), Cmd: ['true'], HostConfig: { Links: [`${absent}:php`] } })
        .then(async (c) => {
          created = c.id;
          await c.start();
        })
        .then(
          () => assert.fail('the container started'),
          (err: Error) => err,
        );
      console.log(`# --link to a missing container: ${error.message}`);
      assert.match(error.message, new RegExp(`could not get container for ${absent}: No such container|No such container: ${absent}`));
    } finally {
      if (created) await docker.getContainer(created).remove({ force: true });
    }
  });
});

describe('PHP-FPM keeps a socket on reload (chapter 06, aside « Recharger ou redémarrer PHP-FPM »)', () => {
  const POOL = '/etc/php/8.2/fpm/pool.d/site-b.conf';
  let labId = '';
  let run: ReturnType<typeof hostExec>;
  before(async () => {
    labId = await labAfter('php-pools', 'pool-b');
    run = hostExec(provider, getLab('php-pools')!);
  });
  after(() => provider.destroyLab(labId));

  test('a changed listen.mode: still 660 after a reload (inherited socket), 666 after a restart', async () => {
    const mode = async () => (await run(labId, 'web', 'stat -c %a /run/php/site-b.sock')).stdout.trim();
    assert.equal(await mode(), '660');
    const reload = await run(
      labId,
      'web',
      `sed -i 's/^listen.mode = 0660/listen.mode = 0666/' ${POOL} && service php8.2-fpm reload && sleep 1`,
    );
    assert.equal(reload.exitCode, 0, reload.stdout + reload.stderr);
    assert.equal(await mode(), '660', 'a reload keeps the socket as it was');
    const log = await run(labId, 'web', 'tail -n 20 /var/log/php8.2-fpm.log');
    assert.match(log.stdout, /using inherited socket fd=\d+, "\/run\/php\/site-b\.sock"/);
    assert.equal((await run(labId, 'web', 'service php8.2-fpm restart')).exitCode, 0);
    assert.equal(await mode(), '666', 'a restart applies the new mode');
  });
});
