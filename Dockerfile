# The llmload image: `podman build -t llmload .` (or `docker build -t llmload .`) builds it from
# source. The build stage builds exactly as the README does (scripts/setup.sh, only the llmload
# binary); the runtime stage holds the binary, its shared libraries, CA certificates and the ready
# scenarios, and runs as a non-root user.
#
# Stages: `runtime` (everything of the image but the binary), `prebuilt` (runtime + a binary
# built elsewhere, for CI), `build` (the compile) and the last, unnamed one (runtime + the binary
# of `build`): the default. CI, which has already compiled llmload on the same Debian 12, builds
# the same runtime around that binary instead of compiling it a second time:
#   podman build --target prebuilt --build-context llmload-bin=DIR .   (DIR holds `llmload`)
# A build of the default stage never reads the prebuilt stage or its context.

FROM debian:12-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates libuv1 libssl3 libzmq5 libyaml-cpp0.7 zlib1g libpcre2-8-0 \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
    && groupadd --system --gid 10001 llmload \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/llmload llmload
COPY scenarios/ /usr/share/llmload/scenarios/
USER 10001:10001
WORKDIR /home/llmload
ENTRYPOINT ["llmload"]

FROM runtime AS prebuilt
COPY --from=llmload-bin llmload /usr/local/bin/llmload

FROM debian:12-slim AS build
WORKDIR /src
# The packages first, in their own layer: a source change rebuilds from the COPY below only.
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh --deps-only
COPY . .
RUN scripts/setup.sh && strip build/llmload

FROM runtime
COPY --from=build /src/build/llmload /usr/local/bin/llmload
