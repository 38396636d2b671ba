# tsk claude agent: Claude Code from npm. Node.js comes from Debian when the stack did not bring it.
ARG DEBIAN_FRONTEND=noninteractive
RUN if ! command -v npm >/dev/null 2>&1; then \
      apt-get update \
      && apt-get install -y --no-install-recommends nodejs npm \
      && apt-get clean \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && npm install -g @anthropic-ai/claude-code \
 && npm cache clean --force \
 && rm -rf /root/.npm
