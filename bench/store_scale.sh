#!/bin/sh
# store_scale.sh - the store's scale test ("make bench-store"): add, find,
# nth, range and delete at 100, 1,000 and 10,000 mappings, first the store
# alone, then (as root) with the real nftables backend in a scratch network
# namespace, one acknowledged netlink transaction per change: with hairpin
# and port preservation on (the defaults: four elements per mapping), then
# off, for comparison.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tool=$top/build/bench/store_scale
"$tool" || exit 1
if [ "$(id -u)" != 0 ]; then
	echo "(not root: skipping the run with the nftables backend)"
	exit 0
fi
ns=igdd-scale-$$
trap 'ip netns del "$ns" 2>/dev/null' EXIT INT TERM
# The rules match iifname "wan0" by name; no interface needs to exist.
ip netns add "$ns" || exit 1
echo
ip netns exec "$ns" "$tool" --nft wan0 || exit 1
echo
ip netns exec "$ns" "$tool" --nft wan0 --plain
