#!/usr/bin/env bash
# The heavy package test, one command, as root on Debian 12:
#   packaging/test-deb.sh
#
# 1. builds the packages twice with packaging/build-deb.sh: an "upgrade" version
#    (<version>+upgradetest1, a changelog entry added in the staging copy) and the real one;
# 2. runs lintian on the real packages: no errors and no warnings;
# 3. in a throwaway Debian 12 root (debootstrap --variant=minbase, ~2 minutes to download)
#    installs, locally edits the conffile, upgrades, removes and purges, with dpkg running
#    the real maintainer scripts, and checks files, owners, modes, the system user and its
#    dialout membership, the enabled unit, conffile and state survival, and what purge removes.
# Prints PASS/FAIL per check and a summary; exits non-zero when anything failed.
#
# Environment:
#   DEBIAN_MIRROR              default http://deb.debian.org/debian
#   EMNIFY_TEST_CHROOT_CACHE   a .tar file: reused when it exists, written after debootstrap
#                              otherwise (saves the download on the next run)
#   EMNIFY_TEST_KEEP=1         keep the work directory (printed) for a look afterwards
#   EMNIFY_TEST_PREBUILT=DIR   skip the builds: DIR/v1/*.deb (the version under test) and
#                              DIR/v2/*.deb (the upgrade) exist already
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/packaging/out"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
test_name=test-deb.sh
# shellcheck source=packaging/test-lib.sh
source "$root/packaging/test-lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "test-deb.sh: run as root (debootstrap, chroot)" >&2; exit 2; }

work="$(mktemp -d /var/tmp/emnify-edge-test-deb.XXXXXX)"
cleanup() {
    if [[ -n "${chroot_dir:-}" ]] && mountpoint -q "$chroot_dir/proc"; then umount "$chroot_dir/proc"; fi
    if [[ "${EMNIFY_TEST_KEEP:-}" == 1 ]]; then
        echo "work directory kept: $work"
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT

install_missing lintian debootstrap file || abort "install lintian debootstrap file"

# --- 1. Packages -----------------------------------------------------------------------
version="$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)"
upgrade_version="${version}+upgradetest1"
say "building $upgrade_version (for the upgrade) and $version"
mkdir -p "$work/v1" "$work/v2"
if [[ -n "${EMNIFY_TEST_PREBUILT:-}" ]]; then
    cp "$EMNIFY_TEST_PREBUILT"/v1/*.deb "$work/v1/" && cp "$EMNIFY_TEST_PREBUILT"/v2/*.deb "$work/v2/" ||
        abort "prebuilt packages in $EMNIFY_TEST_PREBUILT"
    upgrade_version="$(dpkg-deb -f "$(ls "$work"/v2/emnify-edge_*.deb)" Version)"
else
    EMNIFY_DEB_VERSION="$upgrade_version" "$root/packaging/build-deb.sh" || abort "build-deb.sh ($upgrade_version)"
    cp "$out"/*.deb "$work/v2/"
    "$root/packaging/build-deb.sh" || abort "build-deb.sh ($version)"
    cp "$out"/*.deb "$work/v1/"
fi
edge_deb="$(ls "$work"/v1/emnify-edge_*.deb)"
emulator_deb="$(ls "$work"/v1/emnify-edge-emulator_*.deb)"
check "built emnify-edge $version" test -s "$edge_deb"
check "built emnify-edge-emulator $version" test -s "$emulator_deb"
check "built emnify-edge $upgrade_version" test -s "$(ls "$work"/v2/emnify-edge_*.deb)"
ls -l "$work"/v1/*.deb

# --- 2. lintian ------------------------------------------------------------------------
say "lintian"
lintian --fail-on error,warning --display-info "$edge_deb" "$emulator_deb" | tee "$work/lintian.txt"
lintian_status=${PIPESTATUS[0]}
check "lintian: no errors, no warnings" test "$lintian_status" -eq 0
check "lintian: no E:/W: tags" bash -c "! grep -qE '^(E|W): ' '$work/lintian.txt'"

# --- 3. Throwaway root -----------------------------------------------------------------
chroot_dir="$work/root"
package_root "$chroot_dir"
# /proc: Swift's CommandLine.arguments reads /proc/self/cmdline (without it a binary sees no
# arguments at all), and systemd-sysusers and dpkg expect it as on a real system.
mount -t proc proc "$chroot_dir/proc" || abort "mount /proc in the root"
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# stat -c FORMAT PATH inside the root, e.g. "644 root root".
mode_of() { in_root stat -c '%a %U %G' "$1" 2>/dev/null; }
is() { [[ "$1" == "$2" ]]; }
installed_version() { in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' "$1" 2>/dev/null; }
mkdir -p "$chroot_dir/tmp/v1" "$chroot_dir/tmp/v2"
cp "$work"/v1/*.deb "$chroot_dir/tmp/v1/"
cp "$work"/v2/*.deb "$chroot_dir/tmp/v2/"
unit=/lib/systemd/system/emnify-edge.service
relay_unit=/lib/systemd/system/emnify-edge-relay.service

# --- install ---
say "install $version"
in_root dpkg -i /tmp/v1/"$(basename "$edge_deb")" </dev/null >"$work/install.log" 2>&1
check "dpkg -i emnify-edge" test $? -eq 0
cat "$work/install.log"
check "postinst explains the missing token" grep -q "application token is not configured" "$work/install.log"
check "status: installed $version" is "$(installed_version emnify-edge)" "$version ii "
check "/usr/bin/emnify-edge 755 root root" is "$(mode_of /usr/bin/emnify-edge)" "755 root root"
check "emnify-edge --version runs in a minimal root (all shared libraries present)" \
    is "$(in_root /usr/bin/emnify-edge --version)" "${version%%+*}"
check "binary is stripped" bash -c "! file -b '$chroot_dir/usr/bin/emnify-edge' 2>/dev/null | grep -q 'not stripped'"
check "/etc/emnify-edge 755 root root" is "$(mode_of /etc/emnify-edge)" "755 root root"
check "/etc/emnify-edge/emnify-edge.toml 644 root root" is "$(mode_of /etc/emnify-edge/emnify-edge.toml)" "644 root root"
check "emnify-edge.toml is a conffile" \
    bash -c "chroot '$chroot_dir' dpkg-query -W -f='\${Conffiles}' emnify-edge | grep -q '/etc/emnify-edge/emnify-edge.toml'"
# No token is shipped, and config check validates the token as run does: it comes from the environment here.
check "the shipped configuration passes config check" \
    bash -c "EMNIFY_APPLICATION_TOKEN=package-test-token chroot '$chroot_dir' /usr/bin/emnify-edge config check --config /etc/emnify-edge/emnify-edge.toml | grep -q '^configuration OK'"
check "without a token config check fails, as run would" \
    bash -c "! env -u EMNIFY_APPLICATION_TOKEN chroot '$chroot_dir' /usr/bin/emnify-edge config check --config /etc/emnify-edge/emnify-edge.toml 2>/dev/null"
check "no token shipped" test ! -e "$chroot_dir/etc/emnify-edge/application-token"
check "$unit 644 root root" is "$(mode_of $unit)" "644 root root"
check "unit enabled (multi-user.target.wants)" test -L "$chroot_dir/etc/systemd/system/multi-user.target.wants/emnify-edge.service"
# The fleet relay's unit and file: installed on every machine, enabled on none (gateways run the agent).
check "$relay_unit 644 root root" is "$(mode_of $relay_unit)" "644 root root"
check "relay unit not enabled" test ! -e "$chroot_dir/etc/systemd/system/multi-user.target.wants/emnify-edge-relay.service"
check "/etc/emnify-edge/relay.toml 644 root root" is "$(mode_of /etc/emnify-edge/relay.toml)" "644 root root"
check "relay.toml is a conffile" \
    bash -c "chroot '$chroot_dir' dpkg-query -W -f='\${Conffiles}' emnify-edge | grep -q '/etc/emnify-edge/relay.toml'"
check "the shipped relay.toml passes config check (detected by its name)" \
    bash -c "EMNIFY_APPLICATION_TOKEN=package-test-token EMNIFY_WEBHOOK_TOKEN=package-test-webhook-token chroot '$chroot_dir' /usr/bin/emnify-edge config check --config /etc/emnify-edge/relay.toml | grep -q '^configuration OK'"
# Fails for the webhook token, not for any other reason (an unknown --relay would fail too).
check "without a webhook token config check --relay fails, naming it" \
    bash -c "out=\$(env -u EMNIFY_WEBHOOK_TOKEN EMNIFY_APPLICATION_TOKEN=package-test-token chroot '$chroot_dir' /usr/bin/emnify-edge config check --relay 2>&1); test \$? -eq 1 && grep -q '^error: no webhook token' <<<\"\$out\""
check "sysusers.d file" is "$(mode_of /usr/lib/sysusers.d/emnify-edge.conf)" "644 root root"
check "board profiles in /usr/share/emnify-edge/boards" test -s "$chroot_dir/usr/share/emnify-edge/boards/quectel-ec25.toml"
for page in man1/emnify-edge.1.gz man1/emnify-edge-run.1.gz man1/emnify-edge-events.1.gz \
    man1/emnify-edge-identity.1.gz man1/emnify-edge-config-check.1.gz man1/emnify-edge-bridge-config.1.gz \
    man5/emnify-edge.toml.5.gz \
    man5/emnify-edge-relay.toml.5.gz; do
    check "man page $page" test -s "$chroot_dir/usr/share/man/$page"
done
check "examples: mosquitto snippet and udev rules" test -s "$chroot_dir/usr/share/doc/emnify-edge/examples/mosquitto/emnify-edge.conf" -a \
    -s "$chroot_dir/usr/share/doc/emnify-edge/examples/udev/70-emnify-modem.rules"
# The bridge template is compiled into the binary (bridge-config needs no installed file); its source is
# shipped beside the other mosquitto example.
check "examples: the bridge template" test -s "$chroot_dir/usr/share/doc/emnify-edge/examples/mosquitto/emnify-bridge.conf.in"
check "bridge-config fills in the built-in template (the shipped configuration, --iccid)" \
    bash -c "chroot '$chroot_dir' /usr/bin/emnify-edge bridge-config --config /etc/emnify-edge/emnify-edge.toml --iccid 89883070000012345674 --cluster nats-1.example.net:8883 2>/dev/null | grep -qx 'topic emnify/8988307000001234567/event/+ in 1'"
passwd_line="$(in_root getent passwd emnify-edge)"
IFS=: read -r _ _ uid gid _ home shell <<<"$passwd_line"
check "system user emnify-edge exists" test -n "$passwd_line"
check "user is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
check "home /var/lib/emnify-edge, shell nologin" is "$home $shell" "/var/lib/emnify-edge /usr/sbin/nologin"
check "group emnify-edge is its primary group" is "$(in_root getent group "${gid:-x}" | cut -d: -f1)" "emnify-edge"
check "emnify-edge is in dialout" bash -c "chroot '$chroot_dir' id -nG emnify-edge | tr ' ' '\n' | grep -qx dialout"

say "emnify-edge-emulator"
in_root dpkg -i /tmp/v1/"$(basename "$emulator_deb")" </dev/null >"$work/emulator.log" 2>&1
check "dpkg -i emnify-edge-emulator" test $? -eq 0
check "emnify-emulator --help runs" in_root /usr/bin/emnify-emulator --help
check "man page emnify-emulator.1" test -s "$chroot_dir/usr/share/man/man1/emnify-emulator.1.gz"
check "dpkg -P emnify-edge-emulator" in_root dpkg -P emnify-edge-emulator
check "emulator gone" test ! -e "$chroot_dir/usr/bin/emnify-emulator"

# --- local changes, as an administrator and the service would make them ---
echo '# local edit: kept across upgrades' >>"$chroot_dir/etc/emnify-edge/emnify-edge.toml"
in_root install -m 0600 -o root -g root /dev/null /etc/emnify-edge/application-token
echo 'test-token' >"$chroot_dir/etc/emnify-edge/application-token"
in_root install -d -m 0700 -o emnify-edge -g emnify-edge /var/lib/emnify-edge
in_root install -m 0600 -o emnify-edge -g emnify-edge /dev/null /var/lib/emnify-edge/cursors.json

# --- upgrade ---
say "upgrade to $upgrade_version"
in_root dpkg -i /tmp/v2/"$(basename "$(ls "$work"/v2/emnify-edge_*.deb)")" </dev/null >"$work/upgrade.log" 2>&1
check "dpkg -i (upgrade)" test $? -eq 0
cat "$work/upgrade.log"
check "status: installed $upgrade_version" is "$(installed_version emnify-edge)" "$upgrade_version ii "
check "locally modified conffile survives the upgrade" grep -q '^# local edit: kept across upgrades' "$chroot_dir/etc/emnify-edge/emnify-edge.toml"
check "no .dpkg-new/.dpkg-dist left" bash -c "! ls '$chroot_dir'/etc/emnify-edge/*.dpkg-* 2>/dev/null | grep -q ."
check "token kept (600 root root)" is "$(mode_of /etc/emnify-edge/application-token)" "600 root root"
check "state kept" is "$(mode_of /var/lib/emnify-edge/cursors.json)" "600 emnify-edge emnify-edge"
check "same uid after the upgrade" is "$(in_root id -u emnify-edge)" "$uid"
check "postinst quiet when the token exists" bash -c "! grep -q 'application token is not configured' '$work/upgrade.log'"

# --- remove ---
say "remove"
check "dpkg -r emnify-edge" in_root dpkg -r emnify-edge
check "status: config-files" is "$(installed_version emnify-edge)" "$upgrade_version rc "
check "binary removed" test ! -e "$chroot_dir/usr/bin/emnify-edge"
check "unit removed" test ! -e "$chroot_dir$unit"
check "relay unit removed" test ! -e "$chroot_dir$relay_unit"
check "remove keeps the configuration (with the local edit)" grep -q '^# local edit' "$chroot_dir/etc/emnify-edge/emnify-edge.toml"
check "remove keeps the token" test -s "$chroot_dir/etc/emnify-edge/application-token"
check "remove keeps the state" test -e "$chroot_dir/var/lib/emnify-edge/cursors.json"

# --- purge ---
say "purge"
check "dpkg -P emnify-edge" in_root dpkg -P emnify-edge
check "status: not installed" bash -c "! chroot '$chroot_dir' dpkg-query -W emnify-edge 2>/dev/null | grep -q ."
check "purge removes /etc/emnify-edge (configuration and token)" test ! -e "$chroot_dir/etc/emnify-edge"
check "purge removes /var/lib/emnify-edge" test ! -e "$chroot_dir/var/lib/emnify-edge"
check "purge removes the enablement symlink" test ! -e "$chroot_dir/etc/systemd/system/multi-user.target.wants/emnify-edge.service"
check "no file left owned by the emnify-edge user" \
    bash -c "test -z \"\$(find '$chroot_dir' -xdev -uid '${uid:-0}' -print -quit)\""
# The account itself stays (see packaging/debian/emnify-edge.postrm): Debian does not
# delete system users on purge, so their ids are never handed to a new account.
check "system user kept after purge (Debian practice)" in_root getent passwd emnify-edge

say "reinstall after purge"
check "dpkg -i after purge" in_root dpkg -i /tmp/v1/"$(basename "$edge_deb")"
check "same uid on reinstall" is "$(in_root id -u emnify-edge)" "$uid"
check "configuration back" test -s "$chroot_dir/etc/emnify-edge/emnify-edge.toml"

summary
