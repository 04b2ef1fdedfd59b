#!/usr/bin/env bash
# A lab created from its definition with the plain Docker CLI (docker network create, docker run, docker cp,
# docker exec): the baseline the lab provider is measured against, and a way to check a lab by hand.
#   bench/baseline/cli-lab.sh LAB [--keep] [--create-only]
# Creates an internal network and one hardened container per host (capabilities of the definition only,
# no-new-privileges, memory and process limits), seeds the files, runs the boot commands, then the
# solution steps and checks in their order (sandbox/labs/plan.ts). Prints the time of each phase.
# Everything is named atelier-test-cli-<pid>-... and removed at the end (unless --keep).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
node="$root/node_modules/.bin/node"
docker=${DOCKER:-docker}
lab=""; keep=0; create_only=0
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    --create-only) create_only=1 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) lab=$a ;;
  esac
done
[ -n "$lab" ] || { echo "usage: $0 LAB [--keep] [--create-only]" >&2; "$node" "$root/sandbox/labs/print.ts" >&2 || true; exit 2; }

plan=$("$node" "$root/sandbox/labs/print.ts" --plan "$lab")
prefix="atelier-test-cli-$$"
net="$prefix-net"
memory=${ATELIER_LAB_MEMORY_MB:-256}
pids=${ATELIER_LAB_PIDS:-256}

d() { printf '%s' "$1" | base64 -d; }
now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
container() { echo "$prefix-$1"; }
declare -A workdir

cleanup() {
  local names; names=$("$docker" ps -aq --filter "name=^$prefix-")
  [ -z "$names" ] || "$docker" rm -f $names >/dev/null
  "$docker" network rm "$net" >/dev/null 2>&1 || true
}
if [ $keep = 0 ]; then trap cleanup EXIT; fi

t0=$(now); t=$t0
"$docker" network create --internal --label atelier.test=1 "$net" >/dev/null
echo "network      $(ms "$t") ms"

t=$(now)
while IFS=$'\t' read -r kind name image wdir caps env; do
  [ "$kind" = host ] || continue
  workdir[$name]=$wdir
  args=(--name "$(container "$name")" --hostname "$name" --network "$net" --network-alias "$name"
    --cap-drop ALL --security-opt no-new-privileges --pids-limit "$pids" --memory "${memory}m" --memory-swap "${memory}m"
    --ulimit nofile=4096:4096 --label atelier.test=1)
  IFS=, read -ra capl <<<"$caps"
  for c in "${capl[@]}"; do [ -z "$c" ] || args+=(--cap-add "$c"); done
  while IFS= read -r kv; do [ -z "$kv" ] || args+=(--env "$kv"); done < <(d "$env")
  "$docker" run -d "${args[@]}" "$image" >/dev/null
done <<<"$plan"
echo "containers   $(ms "$t") ms"

t=$(now)
while IFS=$'\t' read -r kind host path source mode; do
  [ "$kind" = file ] || continue
  c=$(container "$host")
  "$docker" exec "$c" mkdir -p "$(dirname "$path")"
  "$docker" cp "$source" "$c:$path"
  "$docker" exec "$c" chmod "$mode" "$path"
done <<<"$plan"
echo "files        $(ms "$t") ms"

t=$(now)
while IFS=$'\t' read -r kind host cmd; do
  [ "$kind" = boot ] || continue
  if ! out=$("$docker" exec -w "${workdir[$host]}" "$(container "$host")" timeout -k 2 30 bash -c "$(d "$cmd")" 2>&1); then
    echo "boot command failed on $host: $(d "$cmd")" >&2; echo "$out" >&2; exit 1
  fi
done <<<"$plan"
echo "boot         $(ms "$t") ms"
echo "lab ready    $(ms "$t0") ms"
[ $create_only = 0 ] || exit 0

t=$(now); failed=0
while IFS=$'\t' read -r kind host cmd title a b c; do
  case "$kind" in
    step)
      printf 'step   %-8s %s\n' "$host" "$(d "$title")"
      if ! out=$("$docker" exec -w "${workdir[$host]}" "$(container "$host")" timeout -k 2 "$a" bash -c "$(d "$cmd")" 2>&1); then
        echo "$out" | sed 's/^/         | /'; echo "step failed" >&2; failed=1; break
      fi ;;
    check)
      set +e
      out=$("$docker" exec -w "${workdir[$host]}" "$(container "$host")" timeout -k 2 "$b" bash -c "$(d "$cmd")" 2>/dev/null)
      code=$?
      why=$(printf '%s' "$out" | "$node" "$root/sandbox/labs/expect.ts" "$(d "$a")" "$code")
      ok=$?
      set -e
      if [ $ok = 0 ]; then printf 'ok     %-8s %s (%s)\n' "$host" "$(d "$title")" "$c"
      else printf 'FAIL   %-8s %s (%s)\n' "$host" "$(d "$title")" "$c"; echo "$why" | sed 's/^/         - /'; echo "$out" | tail -n 5 | sed 's/^/         | /'; failed=1; fi ;;
  esac
done <<<"$plan"
echo "solution     $(ms "$t") ms"
exit $failed
