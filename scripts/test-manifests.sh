#!/usr/bin/env bash
# Checks the Kubernetes manifests (deploy/kubernetes): renders the kustomize base and every
# overlay offline (`kubectl kustomize`), then checks every rendered object against the Kubernetes
# API schema with field names checked strictly, and llmload's own rules (N in one place, the
# Service selecting the coordinator's pods, CURVE on a non-loopback bind...): scripts/manifests.js.
#
#   scripts/test-manifests.sh [DIR]   DIR also receives base.yaml, the rendered base, and pods/,
#                                     what its containers run (manifests.js pods), which the
#                                     container test runs
#
# npm's kubernetes-models and yaml are installed into a scratch directory, never into the
# repository. Without kubectl (not a Debian package here) only the render is skipped, loudly:
# the base's own files are checked instead, with its ConfigMaps made as kustomize makes them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-}
k8s=deploy/kubernetes
kubectl=${KUBECTL:-kubectl}  # another kubectl; a name not on PATH tests the CI path without one

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-manifests: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
npm install --prefix "$scratch/npm" --no-audit --no-fund --no-save --silent \
  kubernetes-models@4.5.1 yaml@2 >/dev/null
export NODE_PATH="$scratch/npm/node_modules"

rendered=()
if command -v "$kubectl" >/dev/null; then
  "$kubectl" kustomize "$k8s/base" > "$scratch/base.yaml"
  rendered+=("$scratch/base.yaml")
  for overlay in "$k8s"/overlays/*/; do
    name=$(basename "$overlay")
    "$kubectl" kustomize "$overlay" > "$scratch/overlay-$name.yaml"
    rendered+=("$scratch/overlay-$name.yaml")
  done
  echo "test-manifests: rendered the base and $(( ${#rendered[@]} - 1 )) overlay(s) with kubectl kustomize"
else
  echo "!!! test-manifests: kubectl not found: SKIPPING the kustomize render of the base and of" >&2
  echo "!!! every overlay (the overlays are NOT checked); checking the base's own files instead" >&2
  {
    for f in results.yaml coordinator.yaml workers.yaml; do cat "$k8s/base/$f"; echo "---"; done
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: llmload-scenario\ndata:\n'
    printf '  scenario.yaml: |\n'
    sed 's/^/    /' "$k8s/base/scenario.yaml"
    echo "---"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: llmload-data\ndata:\n'
    for f in "$k8s"/base/data/*; do
      printf '  %s: |\n' "$(basename "$f")"
      sed 's/^/    /' "$f"
    done
  } > "$scratch/base.yaml"
  rendered+=("$scratch/base.yaml")
fi
node scripts/manifests.js validate "${rendered[@]}"
if [ -n "$out" ]; then
  cp "$scratch/base.yaml" "$out/base.yaml"
  mkdir -p "$out/pods"
  node scripts/manifests.js pods "$out/base.yaml" "$out/pods"
fi
