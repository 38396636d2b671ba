# tsk codex agent: the Codex CLI from npm, at the version tsk is tested with (the native binary comes as
# an optional dependency). Node.js comes from Debian when the stack did not bring it; socat stays for
# tools that bridge the agent's API port.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends socat \
 && if ! command -v npm >/dev/null 2>&1; then apt-get install -y --no-install-recommends nodejs npm; fi \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g @openai/codex@0.171.0 \
 && codex --version \
 && npm cache clean --force \
 && rm -rf /root/.npm
