# tsk python stack: Python 3 (trixie: 3.13; bookworm: 3.11) with venv, pip, pipx and headers for native
# extensions.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-dev python3-pip python3-venv pipx \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
# The sandbox is disposable, so let `pip install` work outside a venv (PEP 668 would refuse it); pip and
# pipx put user installs in ~/.local/bin.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 \
    PATH=/home/agent/.local/bin:${PATH}
