#!/usr/bin/env bash
# The container test, CI's container stage (.ci/run): builds the image with podman (from a Debian
# base made here: no registry is reached), checks its size, checks the Kubernetes manifests
# (scripts/test-manifests.sh), then runs a mock, the coordinator and three workers as separate
# containers with the commands, flags and mounts the rendered manifests give their pods:
#   1. a run that completes: every worker's pod ends with 0, merged totals = sum of the workers';
#   2. a run in which one worker container is killed mid-run: partial (exit 5), its data kept.
# Only loopback ports (--network=host, the manifests' 0.0.0.0 binds moved to 127.0.0.1); every
# container has a bounded lifetime and every one this test makes is removed when it ends, also on
# failure or on SIGTERM (a CI timeout), including a build step cut short. Root (podman, apt-get):
# installs podman, runc, mmdebstrap, and nodejs and npm when node is missing.
#
#   scripts/test-container.sh                 build localhost/llmload:test from source (the
#                                             Dockerfile's default stage: ~38 min on 2 cores), test it
#   LLMLOAD_PREBUILT=build/llmload scripts/test-container.sh
#                                             build the Dockerfile's `prebuilt` stage (the same
#                                             runtime stage, around that binary, stripped as the
#                                             source build strips it), test it: what CI runs
#   LLMLOAD_IMAGE=NAME scripts/test-container.sh   test that image, build nothing
set -euo pipefail
say() { echo "test-container: $*"; }
die() { echo "test-container: FAIL: $*" >&2; exit 1; }
prebuilt=""
if [ -n "${LLMLOAD_PREBUILT:-}" ]; then
  [ -z "${LLMLOAD_IMAGE:-}" ] || die "LLMLOAD_PREBUILT and LLMLOAD_IMAGE both set: give one"
  prebuilt=$(realpath -e "$LLMLOAD_PREBUILT" 2>/dev/null) \
    || die "LLMLOAD_PREBUILT=$LLMLOAD_PREBUILT: no such file (build it first: scripts/setup.sh)"
  [ -f "$prebuilt" ] && [ -x "$prebuilt" ] || die "LLMLOAD_PREBUILT=$LLMLOAD_PREBUILT: not an executable file"
fi
cd "$(dirname "$0")/.."

base_image=docker.io/library/debian:12-slim
image=${LLMLOAD_IMAGE:-localhost/llmload:test}
max_bytes=120000000
podman=(podman --runtime runc --cgroup-manager=cgroupfs)  # crun fails on these hosts
limits=(--ulimit nofile=1024:20000 --ulimit nproc=4096:4096)
tag="llmload-ct-$$"  # every container this test runs is named $tag-...

missing=()
for p in podman runc mmdebstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm: scripts/test-manifests.sh (installed here too, to run apt-get once)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run as root"
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scratch=$(mktemp -d)
names=()
# What a build cut short leaves: podman build does not stop its RUN step's container (runc, as
# buildah-...) or remove its working containers when it is killed. Those made after these lists.
runc_before=$(runc list -q 2>/dev/null || true)
external_before=$("${podman[@]}" ps -a --external -q --no-trunc 2>/dev/null || true)
cleanup() {
  local c
  for n in "${names[@]}"; do "${podman[@]}" rm -f -t 0 "$n" >/dev/null 2>&1 || true; done
  for c in $(runc list -q 2>/dev/null | grep '^buildah-' || true); do
    grep -qxF "$c" <<< "$runc_before" || runc delete -f "$c" >/dev/null 2>&1 || true
  done
  for c in $("${podman[@]}" ps -a --external -q --no-trunc 2>/dev/null || true); do
    grep -qxF "$c" <<< "$external_before" || "${podman[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
# (a CI timeout) still removes the containers. Every timeout below is --foreground: one in its
# own process group would not get a group's SIGTERM, and this trap would wait for it.
trap "exit 143" TERM INT

if [ -z "${LLMLOAD_IMAGE:-}" ]; then
  if ! "${podman[@]}" image exists "$base_image"; then
    # As slim as the official debian:12-slim: merged /usr without perl, no docs or locales.
    s=$(date +%s)
    mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      bookworm "$scratch/base.tar" > "$scratch/mmdebstrap.log" 2>&1 \
      || { tail -40 "$scratch/mmdebstrap.log" >&2; die "mmdebstrap (making $base_image)"; }
    "${podman[@]}" import "$scratch/base.tar" "$base_image" >/dev/null
    rm -f "$scratch/base.tar"
    say "made $base_image with mmdebstrap in $(( $(date +%s) - s ))s"
  fi
  build=()
  if [ -n "$prebuilt" ]; then
    # The binary reaches the build as its own context (llmload-bin), not through the source
    # context, whose .dockerignore keeps build output out.
    mkdir "$scratch/bin"
    strip -o "$scratch/bin/llmload" "$prebuilt" || die "strip $prebuilt"
    build=(--target prebuilt --build-context "llmload-bin=$scratch/bin")
    what="the prebuilt stage around $LLMLOAD_PREBUILT"
  else
    what="from source"
  fi
  s=$(date +%s)
  "${podman[@]}" build --pull=never --network=host "${limits[@]}" "${build[@]}" -t "$image" . \
    > "$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log" >&2; die "podman build ($what)"; }
  say "built $image ($what) in $(( $(date +%s) - s ))s"
fi
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
say "image size: $(( size / 1000000 )) MB ($size bytes; budget $(( max_bytes / 1000000 )) MB)"
[ "$size" -le "$max_bytes" ] || die "the image is over its size budget"

# The manifests, and what their pods run: $scratch/pods/<component>.<container>.{args,...}.
bash scripts/test-manifests.sh "$scratch"

# Volumes of the pods, as host directories: the scenario ConfigMap, the CURVE Secret (made as
# docs/kubernetes.md makes it, with llmload keygen), the results claim, the data ConfigMap
# (the same directory for every pod, as the volume is); emptyDirs per pod.
mkdir -p "$scratch/scenario" "$scratch/curve" "$scratch/results" "$scratch/data"
cp deploy/kubernetes/base/scenario.yaml "$scratch/scenario/"
cp deploy/kubernetes/base/data/* "$scratch/data/"
chown 10001:10001 "$scratch/curve" "$scratch/results"
for k in coord worker; do
  names+=("$tag-keygen-$k")
  timeout --foreground 60 "${podman[@]}" run --rm --name "$tag-keygen-$k" --network=none "${limits[@]}" \
    -v "$scratch/curve:/keys" "$image" keygen --out "/keys/$k" >/dev/null
done

# Runs one pod's containers, init containers first (each to its end), then the main one
# detached, named $1. $2 is the component (coordinator, worker); the rest is appended to the
# main container's arguments. The only changes to what the manifests say: binds on 0.0.0.0 go
# to loopback, the /metrics linger is 1 s, and the Service's name resolves to loopback.
run_pod() {
  local name=$1 component=$2; shift 2
  local pods=$scratch/pods c last
  last=$(tail -n 1 "$pods/$component.containers")
  mkdir -p "$scratch/emptydir-$name"
  chown 10001:10001 "$scratch/emptydir-$name"
  while read -r c; do
    local opts=(--network=host "${limits[@]}" --hostname "$name"
                --add-host llmload-coordinator:127.0.0.1 --timeout 300)
    local vol path mode host
    while read -r vol path mode; do
      case $vol in
        scenario|curve|results|data) host=$scratch/$vol ;;
        keys) host=$scratch/emptydir-$name ;;
        *) die "$component.$c mounts volume $vol, which this test does not provide" ;;
      esac
      opts+=(-v "$host:$path:$mode")
    done < "$pods/$component.$c.mounts"
    local entry
    entry=$(cat "$pods/$component.$c.entrypoint")
    [ -z "$entry" ] || opts+=(--entrypoint "$entry")
    local args=()
    mapfile -t args < "$pods/$component.$c.args"
    if [ "$c" != "$last" ]; then
      names+=("$name-init-$c")
      timeout --foreground 120 "${podman[@]}" run --rm --name "$name-init-$c" "${opts[@]}" "$image" "${args[@]}" \
        || die "$name: init container $c failed"
      continue
    fi
    args=("${args[@]/#--bind=tcp:\/\/0.0.0.0:/--bind=tcp://127.0.0.1:}")
    args=("${args[@]/#--prometheus=0.0.0.0:/--prometheus=127.0.0.1:}")
    args=("${args[@]/#--prometheus-linger=*/--prometheus-linger=1s}")
    names+=("$name")
    "${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
    timeout --foreground 60 "${podman[@]}" run -d --name "$name" "${opts[@]}" "$image" "${args[@]}" "$@" \
      >/dev/null
  done < "$pods/$component.containers"
}

# The exit code of container $1 once it ends, at most $2 seconds from now.
exit_code() {
  timeout --foreground "$2" "${podman[@]}" wait "$1" || { "${podman[@]}" logs "$1" >&2; die "$1 did not end in $2 s"; }
}

names+=("$tag-mock")
timeout --foreground 60 "${podman[@]}" run -d --name "$tag-mock" --network=host "${limits[@]}" --timeout 300 \
  "$image" mock --port 0 >/dev/null
url=""
for _ in $(seq 1 100); do
  url=$("${podman[@]}" logs "$tag-mock" 2>&1 | grep -o 'http://127\.0\.0\.1:[0-9]*' | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || die "the mock never said where it listens"
say "mock at $url"

# $1: the run's name; waits for its summary and checks it with node: merged totals = the sum of
# the workers'; $2: the status expected; $3: the worker expected lost (or "").
check_summary() {
  local dir
  dir=$(ls -d "$scratch"/results/*/ | while read -r d; do [ -e "$d/.seen" ] || echo "$d"; done)
  [ "$(echo "$dir" | wc -l)" = 1 ] && [ -f "$dir/summary.json" ] || die "$1: no single new results directory"
  touch "$dir/.seen"
  node - "$dir/summary.json" "$2" "$3" "$1" <<'EOF'
const [file, status, lost, run] = process.argv.slice(2);
const j = JSON.parse(require('fs').readFileSync(file, 'utf8'));
const fail = (m) => { console.error(`test-container: FAIL: ${run}: ${m}`); process.exit(1); };
if (j.run.status !== status) fail(`status ${j.run.status}, expected ${status}`);
if (j.run.workers.length !== 3) fail(`${j.run.workers.length} workers in the summary`);
const sum = { requests: 0, ok: 0, failed: 0, output_tokens: 0 };
for (const w of j.run.workers) {
  const expect = w.id.startsWith(lost + ':') && lost ? 'lost' : 'ok';
  if (w.status !== expect) fail(`worker ${w.id} is ${w.status}, expected ${expect}`);
  if (!(w.totals.requests > 0)) fail(`worker ${w.id} has no requests (its data must be kept)`);
  for (const k of Object.keys(sum)) sum[k] += w.totals[k];
}
for (const k of Object.keys(sum)) {
  if (sum[k] !== j.totals[k]) fail(`totals.${k} ${j.totals[k]} != the workers' sum ${sum[k]}`);
}
if (!(j.totals.requests > 0)) fail('no requests');
console.log(`test-container: ${run}: ${status}, ${j.totals.requests} requests = ` +
  j.run.workers.map((w) => `${w.totals.requests} (${w.id}, ${w.status})`).join(' + '));
EOF
}

# 1. A complete run: the coordinator exits 0 and so does every worker (--exit-after-run).
s=$(date +%s)
run_pod "$tag-coordinator" coordinator --target "$url" --duration 5s
for i in 1 2 3; do run_pod "$tag-w$i" worker; done
code=$(exit_code "$tag-coordinator" 120)
[ "$code" = 0 ] || { "${podman[@]}" logs "$tag-coordinator" >&2; die "complete run: coordinator exit $code"; }
for i in 1 2 3; do
  code=$(exit_code "$tag-w$i" 30)
  [ "$code" = 0 ] || { "${podman[@]}" logs "$tag-w$i" >&2; die "worker $i exit $code"; }
done
check_summary "complete run" completed ""
say "complete run: $(( $(date +%s) - s ))s"

# 2. One worker container killed mid-run: the run is partial (5), the lost worker's data kept.
s=$(date +%s)
run_pod "$tag-coordinator" coordinator --target "$url" --duration 12s
for i in 1 2 3; do run_pod "$tag-w$i" worker; done
for _ in $(seq 1 300); do
  ts=$(ls "$scratch"/results/*/timeseries.csv 2>/dev/null | while read -r f; do
         [ -e "$(dirname "$f")/.seen" ] || echo "$f"; done)
  [ -n "$ts" ] && [ "$(wc -l < "$ts")" -ge 4 ] && break  # three intervals reported
  sleep 0.2
done
[ -n "$ts" ] && [ "$(wc -l < "$ts")" -ge 4 ] || die "killed worker run: load never started"
"${podman[@]}" kill --signal KILL "$tag-w2" >/dev/null
code=$(exit_code "$tag-coordinator" 120)
[ "$code" = 5 ] || { "${podman[@]}" logs "$tag-coordinator" >&2; die "killed worker run: coordinator exit $code, expected 5"; }
for i in 1 3; do
  code=$(exit_code "$tag-w$i" 30)
  [ "$code" = 0 ] || { "${podman[@]}" logs "$tag-w$i" >&2; die "killed worker run: worker $i exit $code"; }
done
check_summary "killed worker run" partial "$tag-w2"
say "killed worker run: $(( $(date +%s) - s ))s"
say "passed"
