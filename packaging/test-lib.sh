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
