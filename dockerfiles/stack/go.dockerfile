# tsk go stack: the Go toolchain from Debian (bookworm: Go 1.19). For a newer Go, override this layer
# with `stack_config.go.setup`.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/home/agent/go/bin:/usr/lib/go/bin:${PATH}
