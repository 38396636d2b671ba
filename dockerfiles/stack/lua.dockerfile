# tsk lua stack: Lua 5.4 with headers (`lua` is 5.4), and LuaRocks from Debian.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends lua5.4 liblua5.4-dev luarocks \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
