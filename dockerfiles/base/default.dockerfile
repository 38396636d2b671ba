# tsk base layer: the tools every sandbox needs and the non-root `agent` user.
# tsk fills in two placeholders: the base image after FROM (config `base_image`), and the line holding
# only the CA placeholder below (trust for the extra CA files of `ca_certificates`, or nothing).
FROM {{BASE_IMAGE}}

ARG DEBIAN_FRONTEND=noninteractive
# An imported rootfs (`tsk docker bootstrap`) has no PATH in its config; later layers extend this one.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8

# Some slim base images drop man directories, which breaks the postinst of a few packages (Java).
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential ca-certificates curl git git-lfs jq less openssh-client procps python3 \
      ripgrep sudo unzip xz-utils \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

{{CA_CERTIFICATES}}

# The agent user gets the host user's uid/gid so files it writes in the mounted workspace belong to the
# host user. The uid or gid may already exist in the image (gid 100 `users`, or uid 0 when tsk runs as
# root): an existing group is reused, and a clashing uid is shared (--non-unique) instead of renaming
# a system account. The sudoers entry only matters when the sandbox allows privilege changes (tsk runs
# it with no-new-privileges).
ARG AGENT_UID=1000
ARG AGENT_GID=1000
RUN set -eu; \
    getent group "${AGENT_GID}" >/dev/null || groupadd --gid "${AGENT_GID}" agent; \
    if id -u agent >/dev/null 2>&1; then \
      usermod --non-unique --uid "${AGENT_UID}" --gid "${AGENT_GID}" --home /home/agent --shell /bin/bash agent; \
    else \
      useradd --non-unique --uid "${AGENT_UID}" --gid "${AGENT_GID}" --create-home --home-dir /home/agent \
        --shell /bin/bash agent; \
    fi; \
    mkdir -p /home/agent /workspace; \
    chown "${AGENT_UID}:${AGENT_GID}" /home/agent /workspace; \
    echo 'agent ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/agent; \
    chmod 0440 /etc/sudoers.d/agent

# The workspace is a copy owned by the host user; git must not refuse it as "dubious ownership".
ARG GIT_USER_NAME="tsk agent"
ARG GIT_USER_EMAIL="tsk@localhost"
RUN git config --system user.name "${GIT_USER_NAME}" \
 && git config --system user.email "${GIT_USER_EMAIL}" \
 && git config --system --add safe.directory '*' \
 && git config --system init.defaultBranch main \
 && git lfs install --system --skip-repo

ENV HOME=/home/agent
WORKDIR /workspace
