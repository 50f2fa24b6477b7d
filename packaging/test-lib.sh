# Shared by packaging/test-deb.sh and packaging/test-systemd.sh (sourced): the PASS/FAIL lines, the
# counts and the closing summary. The sourcing script sets `test_name` first.
started=$(date +%s)
passed=0
failed=0
failures=()

say() { printf '\n==> %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %s\n' "$1"; }
# check DESCRIPTION COMMAND...: PASS when the command succeeds.
check() {
    local description="$1"
    shift
    if "$@" >/dev/null 2>&1; then pass "$description"; else fail "$description"; fi
}
# Prints what failed, `N passed, N failed` and RESULT, and exits 0 only when nothing failed.
summary() {
    printf '\n==== %s: %ds ====\n' "$test_name" "$(($(date +%s) - started))"
    if ((failed)); then
        printf 'FAILED:\n'
        printf '  - %s\n' "${failures[@]}"
    fi
    printf '%d passed, %d failed\n' "$passed" "$failed"
    if ((failed)); then
        printf 'RESULT: FAIL\n'
        exit 1
    fi
    printf 'RESULT: PASS\n'
    exit 0
}
abort() {
    fail "$1"
    summary
}
# install_missing PACKAGE...: apt-get installs those not installed yet; returns non-zero on failure.
install_missing() {
    local package missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
# package_root DIR: the throwaway Debian root both package checks start from (minbase with systemd,
# libcurl4, libmosquitto1), unpacked from $EMNIFY_TEST_CHROOT_CACHE when that exists, else made by
# debootstrap from $mirror (and written to the cache when one is named). Uses $work for its log.
package_root() {
    local dir=$1 cache="${EMNIFY_TEST_CHROOT_CACHE:-}" t0
    if [[ -n "$cache" && -s "$cache" ]]; then
        say "unpacking the cached root $cache"
        mkdir -p "$dir" && tar -xf "$cache" -C "$dir" || abort "unpack $cache"
        return
    fi
    say "debootstrap bookworm (minbase + systemd, libcurl4, libmosquitto1)"
    t0=$(date +%s)
    debootstrap --variant=minbase --include=systemd,libcurl4,libmosquitto1 bookworm "$dir" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; abort "debootstrap"; }
    echo "debootstrap: $(($(date +%s) - t0))s"
    if [[ -n "$cache" ]]; then tar -cf "$cache" -C "$dir" . || echo "could not write $cache"; fi
}
