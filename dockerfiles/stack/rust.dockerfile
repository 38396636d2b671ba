# tsk rust stack: rustc, cargo, rustfmt and clippy from Debian (trixie: Rust 1.85, edition 2024;
# bookworm: Rust 1.63). For a nightly or a pinned toolchain (rustup), override this layer with
# `stack_config.rust.setup`.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends cargo rustc rustfmt rust-clippy pkg-config libssl-dev \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/home/agent/.cargo/bin:${PATH}
