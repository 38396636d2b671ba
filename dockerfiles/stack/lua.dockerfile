# tsk lua stack: Lua 5.4 with headers, and LuaRocks from Debian. Debian's luarocks depends on Lua 5.1,
# 5.2 or 5.3 and so brings Lua 5.1 along, which would then be `lua`, `luac` and the version luarocks
# installs for: all three are made Lua 5.4.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends lua5.4 liblua5.4-dev luarocks \
 && update-alternatives --set lua-interpreter /usr/bin/lua5.4 \
 && update-alternatives --set lua-compiler /usr/bin/luac5.4 \
 && luarocks config --scope system lua_version 5.4 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
