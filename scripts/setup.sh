#!/usr/bin/env bash
# Idempotent, re-runnable set-up: system packages (Debian/Ubuntu as root), a running Docker engine,
# npm dependencies, the build, and the base images. Elsewhere it checks and says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
state_dir="$root_dir/.tsk-dev"
mkdir -p "$state_dir"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# command → Debian package that provides it (tmux: the tests drive `tsk shell` on a real terminal;
# chromium: the dashboard's browser tests drive Debian's headless Chromium through playwright-core, which
# downloads no browser of its own); the libraries are what nodegit's source build needs, the fonts what
# the browser tests' screenshots are drawn with.
commands=(dockerd:docker.io git:git git-lfs:git-lfs debootstrap:debootstrap redis-server:redis-server make:build-essential g++:build-essential python3:python3 curl:curl tmux:tmux chromium:chromium)
libraries=(libssl-dev libkrb5-dev ca-certificates fonts-dejavu-core)

missing_packages() {
  local entry cmd pkg
  for entry in "${commands[@]}"; do
    cmd=${entry%%:*}; pkg=${entry#*:}
    command -v "$cmd" >/dev/null 2>&1 || echo "$pkg"
  done
  # A compose tool for docker-compose.yml (and its test): Docker's `docker compose` plugin where the
  # engine's packages bring it, else Debian's docker-compose.
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || echo docker-compose
  for pkg in "${libraries[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"
  done
}

is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

install_system_packages() {
  local missing
  missing=$(missing_packages | sort -u | tr '\n' ' ')
  [ -z "${missing// /}" ] && { say "system packages: all present"; return; }
  if is_debian && [ "$(id -u)" = 0 ]; then
    say "installing: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >"$state_dir/apt.log" 2>&1 \
      || { tail -20 "$state_dir/apt.log" >&2; die "apt-get install failed (full log: $state_dir/apt.log)"; }
  else
    die "missing: $missing — install them (Debian/Ubuntu: sudo apt-get install $missing; macOS: Docker Desktop, git, git-lfs via Homebrew), then re-run npm run setup"
  fi
}

docker_answers() { docker info >/dev/null 2>&1; }

start_docker() {
  if docker_answers; then say "docker engine: running"; return; fi
  [ "$(id -u)" = 0 ] || die "no Docker engine answers; start Docker (Docker Desktop, or: sudo systemctl start docker) and re-run"
  command -v dockerd >/dev/null || die "dockerd not found; install docker.io"
  if command -v systemctl >/dev/null 2>&1 && systemctl start docker >/dev/null 2>&1 && docker_answers; then
    say "docker engine: started with systemctl"; return
  fi
  say "starting dockerd (log: $state_dir/dockerd.log)"
  nohup dockerd >"$state_dir/dockerd.log" 2>&1 &
  echo $! >"$state_dir/dockerd.pid"
  for _ in $(seq 1 60); do
    docker_answers && { say "docker engine: started (pid $(cat "$state_dir/dockerd.pid"))"; return; }
    kill -0 "$(cat "$state_dir/dockerd.pid")" 2>/dev/null || { tail -20 "$state_dir/dockerd.log" >&2; die "dockerd exited"; }
    sleep 1
  done
  die "dockerd did not answer within 60s (log: $state_dir/dockerd.log)"
}

install_node_modules() {
  local stamp="$state_dir/npm-ci.stamp"
  if [ -d node_modules ] && [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -f node_modules/nodegit/build/Release/nodegit.node ]; then
    say "npm dependencies: up to date"; return
  fi
  say "npm ci (nodegit builds from source: a few minutes the first time)"
  npm ci --no-audit --no-fund >"$state_dir/npm-ci.log" 2>&1 || { tail -30 "$state_dir/npm-ci.log" >&2; die "npm ci failed (full log: $state_dir/npm-ci.log)"; }
  touch "$stamp"
}

build() {
  say "building"
  npm run build --silent >"$state_dir/build.log" 2>&1 || { tail -30 "$state_dir/build.log" >&2; die "build failed (full log: $state_dir/build.log)"; }
}

# The configured base_image (default debian:trixie-slim) and tsk's default, which the proxy and the tests
# run on: each pulled, or built with debootstrap when no registry answers (under a minute).
base_image() {
  say "base images: checking"
  node packages/producer-cli/bin/run.js docker bootstrap --if-missing
}

install_system_packages
git lfs install --skip-repo >/dev/null 2>&1 || true
start_docker
install_node_modules
build
base_image
say "ready: try 'npx tsk --help'"
