# tsk claude agent: Claude Code from npm, at the version tsk is tested with (the native binary comes as
# an optional dependency; its postinstall puts it in place of the `claude` stub). Node.js comes from Debian
# when the stack did not bring it; socat stays for tools that bridge the agent's API port.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends socat \
 && if ! command -v npm >/dev/null 2>&1; then apt-get install -y --no-install-recommends nodejs npm; fi \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g @anthropic-ai/claude-code@2.1.332 \
 && claude --version \
 && npm cache clean --force \
 && rm -rf /root/.npm
