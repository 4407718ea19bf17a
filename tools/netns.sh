#!/usr/bin/env bash
# Two network namespaces joined by a veth pair: two "hosts" for multi-host tests, on this machine only.
#
#   tools/netns.sh up NAME [NET]    creates NAME-a (NET.1) and NAME-b (NET.2), NET defaults to 10.231.0
#   tools/netns.sh down NAME        removes both (and with them the veth pair); quiet if absent
#
# `up` prints shell assignments (NETNS_A= NETNS_B= ADDR_A= ADDR_B= DEV_A= DEV_B=) for `eval`.
# Run a program on a host with `ip netns exec NAME-a PROGRAM`. NAME must be at most 10 characters
# (interface names are limited to 15). Needs root; exits 77 ("skipped") without it, so callers can
# tell "cannot run here" from a failure. Addresses are a /24 between the two namespaces alone:
# nothing is routed to or from the machine's own network.
set -euo pipefail

usage() { echo "usage: $0 up NAME [NET] | down NAME" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1 name=$2 net=${3:-10.231.0}
[ ${#name} -le 10 ] || { echo "netns.sh: NAME must be at most 10 characters: $name" >&2; exit 2; }
a="$name-a" b="$name-b" dev_a="$name-va" dev_b="$name-vb"

down() {
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
}

case $action in
up)
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
        echo "netns.sh: skipped: network namespaces need root and iproute2's ip" >&2
        exit 77
    fi
    down
    # Whatever fails half-way, leave nothing behind.
    trap 'down' ERR
    ip netns add "$a"
    ip netns add "$b"
    ip link add "$dev_a" netns "$a" type veth peer name "$dev_b" netns "$b"
    ip -n "$a" addr add "$net.1/24" dev "$dev_a"
    ip -n "$b" addr add "$net.2/24" dev "$dev_b"
    for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
    ip -n "$a" link set "$dev_a" up
    ip -n "$b" link set "$dev_b" up
    trap - ERR
    echo "NETNS_A=$a NETNS_B=$b ADDR_A=$net.1 ADDR_B=$net.2 DEV_A=$dev_a DEV_B=$dev_b"
    ;;
down) down ;;
*) usage ;;
esac
