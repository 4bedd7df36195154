#!/bin/sh
# build.sh - the build as a packager meets it, on a copy of the tree:
#  - no fact of the build machine in the binary (its kernel version);
#  - CPPFLAGS honoured (configure and make), $(AR) used;
#  - ./configure --host=X fails loudly when X-pkg-config is missing, and
#    takes X-gcc, X-ar, X-pkg-config when they exist;
#  - -Werror by default, off with --disable-werror or make WERROR=;
#  - make install puts the systemd unit (with the installation's paths)
#    in the unit directory from pkg-config systemd or
#    --with-systemdunitdir, and the sysusers.d entry beside it;
#  - ./configure --without-admin --without-relay builds, its unit tests
#    pass, and that igdd refuses a configuration with either;
#  - make check-unit runs the unit tests.
# SRC=/path (default this tree) and IGDD=/path/igdd (default SRC/igdd)
# test another tree.  Prints PASS/FAIL lines.
set -u
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
IGDD=${IGDD:-$SRC/igdd}
failed=0
pass() { echo "PASS build/$*"; }
fail() { echo "FAIL build/$*"; failed=1; }
# check WHAT CMD...: PASS if CMD succeeds (its output shown on failure)
check() {
	_w=$1; shift
	if "$@" >"$T/check.out" 2>&1; then pass "$_w"; else fail "$_w"; sed 's/^/    /' "$T/check.out" | head -10; fi
}
T=$(mktemp -d /tmp/igdd-build.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- the binary ---
rel=$(uname -r)
if [ -x "$IGDD" ]; then
	check "the binary holds no build-host kernel version ($(uname -s)/${rel%%-*})" \
		sh -c "! strings '$IGDD' | grep -qF -e '$(uname -s)/${rel%%-*}' -e '$rel'"
else
	fail "no binary at $IGDD (make igdd)"
fi

# --- a copy of the tree to configure (the real one keeps its Makefile) ---
mkdir "$T/src"
(cd "$SRC" && tar --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
	--exclude=./igdd --exclude=./igdd-san -cf - .) | (cd "$T/src" && tar -xf -)
cd "$T/src" || exit 1
cfg() { ./configure "$@" >"$T/cfg.out" 2>&1; }

check "configure takes CPPFLAGS" env CPPFLAGS=-DIGDD_PROBE_CPP1 ./configure
check "... and the compiler gets them" sh -c "make -n -B build/daemon/util.o | grep -q -- -DIGDD_PROBE_CPP1"
check "make CPPFLAGS=... is honoured too" sh -c "make -n -B CPPFLAGS=-DIGDD_PROBE_CPP2 build/daemon/util.o | grep -q -- -DIGDD_PROBE_CPP2"
check "the library is made with \$(AR)" sh -c "make -n -B AR=igdd-probe-ar build/libigdd.a | grep -q 'igdd-probe-ar rcs '"

check "-Werror by default" sh -c "make -n -B build/daemon/util.o | grep -q -- -Werror"
check "... make WERROR= turns it off" sh -c "! make -n -B WERROR= build/daemon/util.o | grep -q -- -Werror"
cfg --disable-werror
check "... so does ./configure --disable-werror" sh -c "! make -n -B build/daemon/util.o | grep -q -- -Werror"

# --host: the target's tools or a loud failure
host=x86_64-igddprobe-linux-gnu
if cfg CC=cc --host=$host; then
	fail "./configure --host=$host with no $host-pkg-config fails"
else
	pass "./configure --host=$host with no $host-pkg-config fails"
fi
check "... naming $host-pkg-config" grep -q "$host-pkg-config not found" "$T/cfg.out"
mkdir "$T/bin"
ln -s "$(command -v pkg-config)" "$T/bin/$host-pkg-config"
ln -s "$(command -v ar)" "$T/bin/$host-ar"
ln -s "$(command -v cc)" "$T/bin/$host-gcc"
check "with $host-gcc, -ar, -pkg-config on PATH it configures" env PATH="$T/bin:$PATH" ./configure --host=$host
check "... and uses them" sh -c "grep -qx 'CC = $host-gcc' Makefile && grep -qx 'AR = $host-ar' Makefile"

# --- make install: the service files ---
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
cfg
if [ -n "$unitdir" ]; then
	check "configure takes the unit directory from pkg-config systemd ($unitdir)" \
		grep -qx "SYSTEMDUNITDIR = $unitdir" Makefile
else
	echo "SKIP build/no systemd.pc here: the pkg-config default is not checked"
fi
cfg --prefix=/usr --sysconfdir=/etc --with-systemdunitdir=/usr/lib/systemd/system \
	--with-sysusersdir=/usr/lib/sysusers.d
if [ -x "$IGDD" ]; then
	cp "$IGDD" igdd
	check "make install (igdd already built)" make -o igdd install DESTDIR="$T/root"
	check "... installs the daemon" test -x "$T/root/usr/sbin/igdd"
	check "... and the systemd unit" test -f "$T/root/usr/lib/systemd/system/igdd.service"
	check "... which runs the installed daemon with the installed configuration" \
		grep -qx 'ExecStart=/usr/sbin/igdd -d -f /etc/igdd/igdd.conf' "$T/root/usr/lib/systemd/system/igdd.service"
	check "... and the sysusers.d entry for the user igdd" grep -q '^u igdd ' "$T/root/usr/lib/sysusers.d/igdd.conf"
	cfg --prefix=/opt/igdd --with-systemdunitdir=/etc/systemd/system
	check "under another prefix" make -o igdd install DESTDIR="$T/root2"
	check "... the unit names that prefix's daemon and configuration" \
		grep -qx 'ExecStart=/opt/igdd/sbin/igdd -d -f /opt/igdd/etc/igdd/igdd.conf' "$T/root2/etc/systemd/system/igdd.service"
	cfg --without-systemdunitdir
	check "--without-systemdunitdir installs no unit" sh -c \
		"make -o igdd install DESTDIR='$T/root3' && ! find '$T/root3' -name igdd.service | grep -q ."
fi

# --- a firmware build without the admin page and the relay (their files
# swapped for daemon/admin_off.c, daemon/upstream_off.c) ---
cfg --without-admin --without-relay
rm -f igdd igddctl
check "./configure --without-admin --without-relay: igdd, igddctl and the unit tests build" \
	make -j2 all unit
check "... the unit tests pass" sh -c "./build/unit >/dev/null 2>&1"
check "... neither the admin page's nor the relay's code is in igdd" \
	sh -c "! nm igdd | grep -q -e ' admin_assets\$' -e ' upstream_epoch_valid\$'"
conf="ext_ifname=lo\nlistening_ip=127.0.0.1/8\n"
printf "${conf}admin_listen=8080\nadmin_password_file=%s\n" "$T/pw" >"$T/admin.conf"
printf "${conf}upstream_protocol=pcp\n" >"$T/relay.conf"
echo x >"$T/pw"
check "... igdd --check refuses admin_listen, saying why" sh -c \
	"! ./igdd --check -f '$T/admin.conf' >'$T/c.out' 2>&1 && grep -q 'built without the admin page' '$T/c.out'"
check "... and upstream_protocol" sh -c \
	"! ./igdd --check -f '$T/relay.conf' >'$T/c.out' 2>&1 && grep -q 'built without the relay' '$T/c.out'"
make clean >/dev/null 2>&1

# --- make check-unit ---
cfg
check "make check-unit runs the unit tests" sh -c "make -n check-unit | grep -q '^build/unit\$'"
exit $failed
