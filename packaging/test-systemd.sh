#!/usr/bin/env bash
# The package under a real init, one command, as root on Debian 12:
#   packaging/test-systemd.sh
#
# Boots a Debian 12 root (debootstrap, as packaging/test-deb.sh makes it, plus mosquitto and
# mosquitto-clients) with `systemd-nspawn --boot --private-network`, installs the .debs there
# with dpkg while systemd 252 runs as PID 1, serves the emulated emnify API over HTTPS on the
# container's loopback (`emnify-emulator serve`, its CA in [api] ca_file), and checks with the
# real init: start reaches active only after READY, STATUS, restart after SIGKILL with the
# Last Will, the watchdog on a hung (SIGSTOPped) agent, stop publishes `offline`, diagnose
# sees the unit and the journal, reload (SIGHUP) applies a new configuration, purge leaves
# nothing behind. Nothing leaves the machine: the container has only its own loopback.
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero when anything failed.
#
# Environment:
#   EMNIFY_TEST_PREBUILT=DIR   use the packages of this checkout's version in DIR/v1 (test-deb.sh's
#                              layout) or DIR (e.g. packaging/out right after test-deb.sh) instead
#                              of running packaging/build-deb.sh (incremental when .build-deb exists)
#   EMNIFY_TEST_CHROOT_CACHE   the root tar test-deb.sh reads and writes (debootstrap otherwise)
#   EMNIFY_TEST_KEEP=1         keep the work directory (printed)
#   DEBIAN_MIRROR              default http://deb.debian.org/debian (debootstrap, apt in the root)
#
# The one change to the shipped unit is a test drop-in that shortens WatchdogSec (60 s → 20 s)
# and the abort timeout, so that the hung-agent case takes seconds, not two minutes; the agent
# derives its ping interval from $WATCHDOG_USEC, so the mechanism under test is the same.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
test_name=test-systemd.sh
# shellcheck source=packaging/test-lib.sh
source "$root/packaging/test-lib.sh"

[[ $(id -u) -eq 0 ]] || { echo "test-systemd.sh: run as root (debootstrap, systemd-nspawn)" >&2; exit 2; }
# systemd-nspawn; debootstrap for the root; python3 reads diagnose's JSON; nsenter is util-linux.
install_missing systemd-container debootstrap python3 ||
    { echo "test-systemd.sh: cannot install systemd-container debootstrap python3" >&2; exit 2; }

work="$(mktemp -d /var/tmp/emnify-edge-test-systemd.XXXXXX)"
box="$work/root"
nspawn_pid=""
leader=""
cleanup() {
    if [[ -n "$nspawn_pid" ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM: nspawn asks the container's systemd to power off (stops every unit in it).
        kill -TERM "$nspawn_pid" 2>/dev/null
        for _ in $(seq 1 300); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$nspawn_pid" 2>/dev/null; then
            echo "container did not power off within 30 s: killing it"
            [[ -n "$leader" ]] && kill -KILL "$leader" 2>/dev/null
            kill -KILL "$nspawn_pid" 2>/dev/null
            wait "$nspawn_pid" 2>/dev/null
        fi
    fi
    if mountpoint -q "$box/proc" 2>/dev/null; then umount "$box/proc"; fi
    if [[ "${EMNIFY_TEST_KEEP:-}" == 1 ]]; then
        echo "work directory kept: $work"
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS DESCRIPTION COMMAND...: polls every 0.5 s until COMMAND succeeds.
wait_until() {
    local limit="$1" what="$2"
    shift 2
    local deadline=$(($(date +%s) + limit))
    while (($(date +%s) < deadline)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    echo "  (gave up after ${limit} s waiting for: $what)"
    return 1
}

# --- 1. Packages -----------------------------------------------------------------------
version="$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)"
if [[ -n "${EMNIFY_TEST_PREBUILT:-}" ]]; then
    debs="$EMNIFY_TEST_PREBUILT"
    [[ -d "$debs/v1" ]] && debs="$debs/v1"
else
    say "building $version (packaging/build-deb.sh)"
    "$root/packaging/build-deb.sh" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; abort "build-deb.sh"; }
    debs="$root/packaging/out"
fi
# The version of this checkout's changelog (packaging/out may also hold test-deb.sh's upgrade build).
edge_deb="$(ls "$debs"/emnify-edge_"${version}"_*.deb 2>/dev/null | head -1)"
emulator_deb="$(ls "$debs"/emnify-edge-emulator_"${version}"_*.deb 2>/dev/null | head -1)"
[[ -s "$edge_deb" && -s "$emulator_deb" ]] || abort "emnify-edge and emnify-edge-emulator $version in $debs"

# --- 2. The root: test-deb.sh's, plus the broker and its clients -------------------------
package_root "$box"
say "apt-get install mosquitto mosquitto-clients in the root"
mount -t proc proc "$box/proc" || abort "mount /proc in the root"
chroot "$box" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c \
    "echo 'deb $mirror bookworm main' >/etc/apt/sources.list && apt-get update -qq &&
     apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients" >"$work/apt.log" 2>&1 ||
    { tail -20 "$work/apt.log"; abort "apt-get install mosquitto in the root"; }
umount "$box/proc"
mkdir -p "$box/root/debs"
cp "$edge_deb" "$emulator_deb" "$box/root/debs/"

# --- 3. Boot ---------------------------------------------------------------------------
# --register=no --keep-unit: no systemd-machined or host D-Bus needed (the host's PID 1 need not
# be systemd); --private-network: the container has only its own loopback.
say "systemd-nspawn --boot"
systemd-nspawn --boot --private-network --register=no --keep-unit --machine=emnify-edge-test \
    -D "$box" >"$work/console.log" 2>&1 &
nspawn_pid=$!
find_leader() {
    local child
    child="$(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null | awk '{print $1}')"
    [[ -n "$child" && "$(cat "/proc/$child/comm" 2>/dev/null)" == systemd ]] && leader="$child"
}
wait_until 30 "the container's systemd" find_leader || { tail -30 "$work/console.log"; abort "container boots"; }
# in_box COMMAND...: runs in all of the container's namespaces, as root, with a clean environment.
in_box() { nsenter -t "$leader" -a -r -w /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
booted() { [[ "$(in_box systemctl is-system-running 2>/dev/null)" =~ ^(running|degraded)$ ]]; }
wait_until 60 "the boot to finish" booted || { tail -30 "$work/console.log"; abort "container boots"; }
pass "container boots with systemd $(in_box systemctl --version | awk 'NR==1{print $2}') as PID 1"
show() { in_box systemctl show -p "$2" --value "$1"; }

# --- 4. Install under the running init -----------------------------------------------------
say "install $version"
in_box dpkg -i "/root/debs/$(basename "$edge_deb")" "/root/debs/$(basename "$emulator_deb")" \
    </dev/null >"$work/install.log" 2>&1
check "dpkg -i emnify-edge emnify-edge-emulator (live systemd)" test $? -eq 0
cat "$work/install.log"
check "unit enabled" test "$(in_box systemctl is-enabled emnify-edge)" = enabled
check "without a token the unit is not started" test "$(show emnify-edge ActiveState)" = inactive
uid="$(in_box id -u emnify-edge)"

# The emulator on the container's loopback, its CA for the agent; the shipped broker snippet.
token="systemd-test-application-token"
in_box systemd-run --unit=test-emulator --property=Type=exec /usr/bin/emnify-emulator serve --port 8443 \
    --ca-file /etc/emnify-edge/api-ca.pem --token "$token" --history 30 --event-rate 12 >/dev/null 2>&1
emulator_line() { in_box journalctl -u test-emulator -o cat --no-pager | grep -m1 '^EMULATOR_READY'; }
wait_until 30 "the emulator" emulator_line || abort "emulator starts in the container"
iccid="$(emulator_line | sed -n 's/.* iccid=\([0-9]*\).*/\1/p')"
check "emulator serves HTTPS on the container's loopback (ICCID $iccid)" test -n "$iccid"
in_box chmod 0644 /etc/emnify-edge/api-ca.pem
cp "$box/usr/share/doc/emnify-edge/examples/mosquitto/emnify-edge.conf" "$box/etc/mosquitto/conf.d/"
in_box systemctl restart mosquitto
check "mosquitto runs with the shipped snippet" test "$(show mosquitto ActiveState)" = active

# The published topics use the ICCID without its check digit (19 digits).
write_config() { # PREFIX POLL_INTERVAL
    cat >"$box/etc/emnify-edge/emnify-edge.toml" <<EOF
[api]
url = "https://127.0.0.1:8443"
ca_file = "/etc/emnify-edge/api-ca.pem"

[modem]
source = "static"
iccid = "$iccid"

[agent]
poll_interval = "$2"

[mqtt]
host = "127.0.0.1"
topic_prefix = "$1"

[log]
level = "info"
EOF
}
write_config emnify 20s
in_box install -m 0600 /dev/null /etc/emnify-edge/application-token
printf '%s\n' "$token" >"$box/etc/emnify-edge/application-token"
in_box systemd-run --unit=test-subscriber --property=Type=exec --property=StandardOutput=file:/root/sub.log \
    /usr/bin/mosquitto_sub -h 127.0.0.1 -q 1 -v -t '#' >/dev/null 2>&1
sub="$box/root/sub.log"
wait_until 20 "the subscriber" test "$(show test-subscriber ActiveState)" = active
# lines_after N PATTERN: a subscriber line after the first N lines matches the extended regex.
lines() { wc -l <"$sub"; }
lines_after() { tail -n +"$(($1 + 1))" "$sub" | grep -qE "$2"; }
short_iccid="${iccid:0:19}"

# --- 5. Start: active only after READY ----------------------------------------------------
say "start: READY comes after the broker connection"
in_box systemctl stop mosquitto
in_box systemctl mask --runtime mosquitto >/dev/null 2>&1
in_box systemctl start --no-block emnify-edge
status_text() { show emnify-edge StatusText; }
waiting_for_broker() { [[ "$(status_text)" == "connecting to the MQTT broker"* ]]; }
if wait_until 60 "STATUS=connecting to the MQTT broker" waiting_for_broker; then
    state="$(show emnify-edge ActiveState)/$(show emnify-edge SubState)"
    check "without a broker the unit stays activating/start (is $state): no READY yet" test "$state" = activating/start
else
    fail "the agent reports 'connecting to the MQTT broker' in STATUS (is: $(status_text))"
fi
in_box systemctl unmask --runtime mosquitto >/dev/null 2>&1
in_box systemctl start mosquitto
active() { [[ "$(show emnify-edge ActiveState)" == active ]]; }
check "with the broker up, READY=1: the unit becomes active" wait_until 90 "emnify-edge active" active
in_box systemctl status emnify-edge --no-pager >"$work/status.txt" 2>&1
cat "$work/status.txt" | head -12
check "systemctl status shows the agent's STATUS line" grep -qE '^ +Status: ".+"' "$work/status.txt"
check "status topic online" wait_until 30 "online" lines_after 0 "^emnify/$short_iccid/status online$"
check "events published to the broker" wait_until 60 "an event" lines_after 0 "^emnify/$short_iccid/event/"

# --- 6. SIGKILL: Last Will, restart --------------------------------------------------------
say "SIGKILL of the agent"
pid="$(show emnify-edge MainPID)"
restarts="$(show emnify-edge NRestarts)"
mark="$(lines)"
in_box sh -c "kill -KILL $pid"
check "the Last Will 'offline' fired" wait_until 30 "offline" lines_after "$mark" "^emnify/$short_iccid/status offline$"
restarted() { [[ "$(show emnify-edge NRestarts)" -gt "$restarts" && "$(show emnify-edge MainPID)" != "$pid" ]] && active; }
check "systemd restarted it (Restart=on-failure, RestartSec=10s)" wait_until 60 "a restart" restarted
check "online again after the restart" wait_until 30 "online" lines_after "$mark" "^emnify/$short_iccid/status online$"

# --- 7. Hung agent: the watchdog ------------------------------------------------------------
say "SIGSTOP of the agent: the watchdog"
mkdir -p "$box/etc/systemd/system/emnify-edge.service.d"
printf '[Service]\nWatchdogSec=20s\nTimeoutAbortSec=10s\n' >"$box/etc/systemd/system/emnify-edge.service.d/test-watchdog.conf"
in_box systemctl daemon-reload
in_box systemctl restart emnify-edge
check "restarted with the 20 s watchdog" wait_until 60 "active" active
first_ping="$(show emnify-edge WatchdogTimestampMonotonic)"
pinged() { [[ "$(show emnify-edge WatchdogTimestampMonotonic)" != "$first_ping" ]]; }
check "the agent pings the watchdog (WatchdogTimestamp moves)" wait_until 30 "a watchdog ping" pinged
pid="$(show emnify-edge MainPID)"
restarts="$(show emnify-edge NRestarts)"
since="$(in_box date '+%Y-%m-%d %H:%M:%S')"
in_box sh -c "kill -STOP $pid"
check "the watchdog kills the hung agent and systemd restarts it" wait_until 90 "a restart" restarted
in_box journalctl -u emnify-edge --since "$since" --no-pager -o cat >"$work/watchdog.txt" 2>&1
check "journal: 'Watchdog timeout'" grep -q "Watchdog timeout" "$work/watchdog.txt"
rm -r "$box/etc/systemd/system/emnify-edge.service.d"
in_box systemctl daemon-reload

# --- 8. diagnose -------------------------------------------------------------------------------
say "diagnose"
wait_until 60 "active" active
in_box emnify-edge diagnose --json >"$work/diagnose.json" 2>"$work/diagnose.err"
echo "diagnose exit status $? (0 pass, 1 fail, 2 warnings)"
agent_check() {
    /usr/bin/python3 - "$work/diagnose.json" "$1" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
checks = report.get("checks", report) if isinstance(report, dict) else report
agent = next(c for c in checks if c.get("id") == "agent")
print(json.dumps(agent, indent=1))
sys.exit(0 if eval(sys.argv[2], {"agent": agent}) else 1)
EOF
}
check "diagnose: the agent check sees the unit active" agent_check 'agent["details"]["service"] == "active"'
check "diagnose: the agent check passes (state ok, recent poll)" agent_check 'agent["status"] == "pass"'
agent_check True | head -30
in_box emnify-edge diagnose --bundle /root/bundle.tar >/dev/null 2>&1
mkdir -p "$work/bundle" && tar -xf "$box/root/bundle.tar" -C "$work/bundle" 2>/dev/null
journal_file="$(find "$work/bundle" -name journal.txt | head -1)"
check "diagnose --bundle: journal.txt holds the unit's journal lines" \
    grep -q "emnify-edge.*connected to the MQTT broker" "${journal_file:-/nonexistent}"
check "diagnose --bundle: the journal shows the watchdog restart" grep -q "Watchdog timeout" "${journal_file:-/nonexistent}"

# --- 9. reload (SIGHUP) applies a new configuration --------------------------------------------
say "systemctl reload"
pid="$(show emnify-edge MainPID)"
mark="$(lines)"
write_config reloaded 7s
in_box systemctl reload emnify-edge
check "systemctl reload succeeds" test $? -eq 0
health_reloaded() { tail -n +"$((mark + 1))" "$sub" | grep -E "^reloaded/$short_iccid/health " | grep -q '"poll_interval_seconds":7[,}]'; }
check "the new topic_prefix and poll interval are on the health topic" wait_until 60 "reloaded/…/health" health_reloaded
check "the retained identity is published under the new prefix too" \
    wait_until 30 "reloaded/…/identity" lines_after "$mark" "^reloaded/$short_iccid/identity \\{"
check "same process (reloaded, not restarted)" test "$(show emnify-edge MainPID)" = "$pid"
check "still active after the reload" active

# --- 10. stop publishes offline ------------------------------------------------------------------
say "systemctl stop"
mark="$(lines)"
in_box systemctl stop emnify-edge
check "systemctl stop: inactive (a clean exit, not failed)" test "$(show emnify-edge ActiveState)" = inactive
check "stop published 'offline'" wait_until 30 "offline" lines_after "$mark" "^reloaded/$short_iccid/status offline$"
in_box journalctl -u emnify-edge --no-pager -o short-iso >"$work/journal.txt" 2>&1

# --- 11. purge leaves nothing behind ---------------------------------------------------------------
say "purge"
in_box systemctl stop test-subscriber test-emulator
check "dpkg -P emnify-edge emnify-edge-emulator" in_box dpkg -P emnify-edge emnify-edge-emulator
not_installed() { ! in_box dpkg-query -W emnify-edge emnify-edge-emulator 2>/dev/null | grep -q .; }
check "status: not installed (no configuration left in dpkg either)" not_installed
check "systemd no longer knows the unit" test "$(show emnify-edge LoadState)" = not-found
check "/etc/emnify-edge gone (configuration, token, CA)" test ! -e "$box/etc/emnify-edge"
check "/var/lib/emnify-edge gone (state)" test ! -e "$box/var/lib/emnify-edge"
check "no enablement symlink" test ! -e "$box/etc/systemd/system/multi-user.target.wants/emnify-edge.service"
owned_by_user() { # the first process (its /proc directory) or file of the emnify-edge user
    in_box sh -c "for process in /proc/[0-9]*; do [ \"\$(stat -c %u \$process 2>/dev/null)\" = $uid ] && echo \$process; done
        find / /run /tmp /var/tmp -xdev -uid $uid -print 2>/dev/null" | head -1
}
leftover="$(owned_by_user)"
check "no process and no file of the emnify-edge user (/, /run, /tmp, /var/tmp)${leftover:+: $leftover}" test -z "$leftover"
check "no credentials left in /run/credentials" test -z "$(in_box ls /run/credentials 2>/dev/null | grep emnify)"

if ((failed)); then
    echo "--- journal of emnify-edge ---"
    tail -60 "$work/journal.txt"
fi
summary
