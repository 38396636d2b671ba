# tsk go stack: the Go toolchain from Debian (trixie: Go 1.24; bookworm: Go 1.19). A go.mod that asks
# for a newer Go makes `go` fetch that toolchain through the proxy; or override this layer with
# `stack_config.go.setup`. Versions per release: docker/stack-toolchains.ts (`tsk docker build --dry-run`).
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/home/agent/go/bin:/usr/lib/go/bin:${PATH}
