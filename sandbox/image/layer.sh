#!/bin/sh
# Lab layer, run once at image build (both Dockerfile and Dockerfile.hub): small run-time footprint and a few
# conveniences. Files under rootfs/ are already copied. Every edit is checked so a Debian change fails the build.
set -eu
fail() { echo "layer.sh: $*" >&2; exit 1; }

# PHP-FPM starts workers only when requests come (Debian: pm = dynamic, 2 workers always running).
sed -i 's/^pm = .*/pm = ondemand/' /etc/php/8.2/fpm/pool.d/www.conf
grep -q '^pm = ondemand$' /etc/php/8.2/fpm/pool.d/www.conf || fail "pm = ondemand not set"

# Nginx: one worker process (Debian: one per CPU).
sed -i 's/^worker_processes .*/worker_processes 1;/' /etc/nginx/nginx.conf
grep -q '^worker_processes 1;$' /etc/nginx/nginx.conf || fail "worker_processes not set"

# Apache: the stock configuration, plus a ServerName (see conf-available/servername.conf). PHP-FPM's own
# Apache snippet stays disabled: the labs wire Apache to PHP-FPM the chapter's way.
a2enconf -q servername
# apache2ctl raises the open-file limit to 8192 by default, which fails without CAP_SYS_RESOURCE when the
# container's hard limit is lower ("Setting ulimit failed" at each start): keep the container's limit.
printf '\n# Atelier: keep the open-file limit the lab host was given (raising it needs CAP_SYS_RESOURCE).\nexport APACHE_ULIMIT_MAX_FILES=true\n' >>/etc/apache2/envvars
a2disconf -q php8.2-fpm 2>/dev/null || true
[ ! -e /etc/apache2/mods-enabled/proxy_fcgi.load ] || fail "proxy_fcgi must not be enabled in the image"

# nano highlights the syntax of configuration files (Debian ships the rules, disabled).
sed -i 's|^# *include "/usr/share/nano/\*.nanorc"|include "/usr/share/nano/*.nanorc"|' /etc/nanorc
grep -q '^include "/usr/share/nano/\*.nanorc"' /etc/nanorc || fail "nano syntax rules not enabled"

# ping carries the file capability cap_net_raw, which a lab host never has (no-new-privileges, capabilities
# dropped): the kernel then refuses to run it at all. Without the capability it uses an ICMP datagram socket,
# which Docker allows (net.ipv4.ping_group_range). `cp` leaves the capability behind.
cp /usr/bin/ping /usr/bin/ping.plain && chmod 755 /usr/bin/ping.plain && mv /usr/bin/ping.plain /usr/bin/ping

# COPY rootfs/ gave /root the mode of the source folder: root's home is private again.
chmod 700 /root

# `vim` runs vim-tiny (the full vim package would add 30 MB of runtime files).
ln -sf /usr/bin/vim.tiny /usr/local/bin/vim

# Nothing runs at build time, and no pid file may survive into containers.
rm -f /run/apache2/apache2.pid /run/nginx.pid /run/php/php8.2-fpm.pid

# The image's writable directories, as read-only twins under /usr/lib/atelier/skel (hard links: no space).
# With a read-only root, each of them is an empty tmpfs in a lab host, which lab-init fills from its twin:
# the engine cannot fill a tmpfs from the image (moby/moby#27068) and an exec that unpacks a tar costs
# about half a second per lab. dpkg's database (7 MB per host in memory) and apt's caches stay read-only
# there: nothing can be installed in a lab (no network), and `dpkg -l` still reads it.
skel=/usr/lib/atelier/skel
mkdir -p "$skel"
for d in etc home opt root run srv tmp var; do
  [ -d "/$d" ] || continue
  mkdir "$skel/$d"
  chmod --reference="/$d" "$skel/$d" && chown --reference="/$d" "$skel/$d"
  for e in "/$d"/* "/$d"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    # The engine bind-mounts its own files there: copying over them would replace the lab's name resolution.
    case "$e" in /etc/hosts | /etc/hostname | /etc/resolv.conf) continue ;; esac
    cp -a --link "$e" "$skel/$d/"
  done
done
mv "$skel/var/lib/dpkg" /usr/lib/atelier/dpkg
ln -s /usr/lib/atelier/dpkg "$skel/var/lib/dpkg"
rm -f "$skel"/var/cache/apt/*.bin
# Entries that are not root's (www-data's logs, _apt's partial/ at mode 700…) could not be read by a host's
# root without CAP_DAC_OVERRIDE: in the skeleton they become root's, for root's eyes only (a copy, so the live file
# keeps its owner), and skel.owners lists their real mode and owner, which lab-init gives back after the copy.
owners=/usr/lib/atelier/skel.owners
: >"$owners"
find "$skel" \( ! -uid 0 -o ! -gid 0 \) ! -type l -printf '%m %U %G %p\n' | while read -r mode uid gid path; do
  printf '%s %s %s %s\n' "$mode" "$uid" "$gid" "${path#"$skel"}" >>"$owners"
  if [ -f "$path" ]; then cp "$path" "$path.copy" && mv "$path.copy" "$path"; fi
  chown root:root "$path"
  if [ -d "$path" ]; then chmod 700 "$path"; else chmod 600 "$path"; fi
done
[ -s "$owners" ] || fail "no owner recorded for the skeleton (expected www-data's logs at least)"
[ -f "$skel/etc/nginx/nginx.conf" ] && [ -L "$skel/var/lib/dpkg" ] || fail "skeleton of the writable directories not built"
