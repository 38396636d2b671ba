# tsk node stack: Node.js and npm from Debian (trixie: Node.js 20, npm 9; bookworm: Node.js 18). Global
# installs go to /usr/local (npm's Debian prefix).
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
