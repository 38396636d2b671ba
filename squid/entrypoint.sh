#!/bin/sh
# tsk proxy entrypoint.
#
#   start   (as root) write the Squid configuration, install the firewall, then drop to user `proxy`
#   serve   (as proxy) start one socat forwarder per host port, then run Squid in the foreground
#   health  exit 0 when Squid and every forwarder are listening (the image's HEALTHCHECK)
#
# Inputs (environment): TSK_SQUID_CONF_B64 (base64 squid.conf; default /etc/squid/tsk-default.conf; either
# gets /etc/squid/tsk-denials.conf included after it),
# TSK_PROXY_PORT (default 3128), TSK_HOST_PORTS (space-separated ports forwarded to host.docker.internal).
set -eu

PORT="${TSK_PROXY_PORT:-3128}"
HOST_PORTS="${TSK_HOST_PORTS:-}"
CONF=/run/tsk/squid.conf
DENIALS=/run/squid/tsk-denials

log() { printf 'tsk-proxy: %s\n' "$*" >&2; }

# Accept only the proxy port and the forwarded ports from outside. The sandboxes' networks are internal
# and have no other members, so this is defence in depth: nothing else should listen here anyway.
install_firewall() {
  iptables -w 5 -F INPUT
  iptables -w 5 -A INPUT -i lo -j ACCEPT
  iptables -w 5 -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  iptables -w 5 -A INPUT -p tcp --dport "$PORT" -j ACCEPT
  for port in $HOST_PORTS; do
    iptables -w 5 -A INPUT -p tcp --dport "$port" -j ACCEPT
  done
  # Refuse (rather than drop) so that probes fail fast, like a closed port would. Sandboxes' DNS is pinned
  # to this address (it answers no DNS): a lookup must fail at once, not after the resolver's timeout.
  iptables -w 5 -A INPUT -p tcp -j REJECT --reject-with tcp-reset
  iptables -w 5 -A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable
  iptables -w 5 -A INPUT -j DROP
  # The proxy is on every task network and on its egress network: it must never route between them.
  iptables -w 5 -P FORWARD DROP
}

listening() {
  hex=$(printf '%04X' "$1")
  # State 0A is LISTEN; the local address is field 2 (addr:port in hex).
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'
}

case "${1:-start}" in
  start)
    # Squid (unprivileged) writes its pid file to /run by default, /run/squid in tsk's configuration.
    # Docker gives a tmpfs over an image directory that directory's mode (0755), whatever the mount
    # options say; root still owns it, so it can open it up without CAP_FOWNER.
    chmod 1777 /run
    mkdir -p /run/tsk /run/squid
    if [ -n "${TSK_SQUID_CONF_B64:-}" ]; then
      printf '%s' "$TSK_SQUID_CONF_B64" | base64 -d > "$CONF"
    else
      cp /etc/squid/tsk-default.conf "$CONF"
    fi
    # tsk's denial log and 403 page, whichever configuration runs (see tsk-denials.conf).
    printf '\n# tsk\ninclude /etc/squid/tsk-denials.conf\n' >> "$CONF"
    chmod 0644 "$CONF"
    if err=$(install_firewall 2>&1); then
      log "firewall on (accepting tcp/$PORT${HOST_PORTS:+ and $HOST_PORTS})"
    else
      log "firewall unavailable: $(printf '%s' "$err" | tail -n 1)"
    fi
    # Without CAP_CHOWN the pid directory cannot be handed over: share it instead.
    chmod 1777 /run/squid
    # Without CAP_SETPCAP the bounding set stays, but a non-root process with no-new-privileges can
    # never regain the capabilities: the uid change clears them.
    exec setpriv --reuid=proxy --regid=proxy --init-groups --inh-caps=-all -- "$0" serve
    ;;
  serve)
    if ! out=$(squid -k parse -f "$CONF" 2>&1); then
      printf '%s\n' "$out" >&2
      log "invalid squid configuration: $(printf '%s\n' "$out" | grep -E 'FATAL|ERROR' | head -n 1 | sed 's/^.*| //')"
      exit 1
    fi
    # Squid, as `proxy`, cannot open the container's stdout (root's), so it logs denied requests to this
    # FIFO (tsk-denials.conf) and cat passes them on to stdout. Held open read-write, it never ends.
    rm -f "$DENIALS"
    mkfifo -m 0600 "$DENIALS"
    cat <> "$DENIALS" &
    for port in $HOST_PORTS; do
      log "forwarding port $port to host.docker.internal:$port"
      socat "TCP-LISTEN:$port,fork,reuseaddr,backlog=128" "TCP:host.docker.internal:$port" &
    done
    log "starting squid on port $PORT"
    exec squid -N -f "$CONF"
    ;;
  health)
    for port in "$PORT" $HOST_PORTS; do
      listening "$port" || exit 1
    done
    ;;
  *)
    exec "$@"
    ;;
esac
