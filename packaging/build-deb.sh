#!/usr/bin/env bash
# Builds the two Debian packages from this checkout on Debian 12 (bookworm):
#   packaging/out/emnify-edge_<version>_<arch>.deb           the agent, unit, configuration
#   packaging/out/emnify-edge-emulator_<version>_<arch>.deb  the API emulator (labs, developers)
#
# Steps: install the Debian build dependencies (as root; otherwise they must be there),
# build both binaries with Swift (release, static Swift standard library, full RELRO),
# generate the man pages from the argument-parser definitions, stage everything with
# packaging/debian/ in packaging/out/src/ and run dpkg-buildpackage there (dh_strip strips).
#
# Environment:
#   SWIFT_BIN             directory of swift (default /opt/swift/usr/bin)
#   EMNIFY_SCRATCH        SwiftPM scratch directory (default .build-deb; kept between runs)
#   EMNIFY_DEB_VERSION    optional: add a changelog entry with this version on top of
#                         packaging/debian/changelog in the staging copy (test-deb.sh uses it
#                         to build an "upgrade"); the checkout is not changed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/packaging/out"
scratch="${EMNIFY_SCRATCH:-$root/.build-deb}"
export PATH="${SWIFT_BIN:-/opt/swift/usr/bin}:$PATH"

say() { printf '==> %s\n' "$*" >&2; }

# --- 1. Debian build dependencies ------------------------------------------------------
build_deps=(debhelper dpkg-dev libcurl4-openssl-dev libmosquitto-dev pkg-config)
missing=()
for package in "${build_deps[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "build-deb.sh: missing build dependencies: ${missing[*]} (run as root or install them)" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "build-deb.sh: swift not found (set SWIFT_BIN)" >&2; exit 1; }

# --- 2. Release binaries ---------------------------------------------------------------
# -z relro -z now: full RELRO (the GOT is read-only after start-up, binding is immediate).
link_flags=(-Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
for product in emnify-edge emnify-edge-relay emnify-emulator; do
    say "swift build $product (release, static Swift stdlib)"
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" "${link_flags[@]}"
done
bin="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"

# --- 3. Staging tree -------------------------------------------------------------------
src="$out/src"
rm -rf "$src"
mkdir -p "$src/staging/usr/bin" "$src/staging/usr/libexec/emnify-edge" "$src/staging/man" "$src/man"
cp -a "$root/packaging/debian" "$src/debian"
cp -a "$root/firmware-config" "$src/firmware-config"
cp "$root/packaging/man/emnify-edge.toml.5" "$root/packaging/man/emnify-edge-relay.toml.5" "$src/man/"
cp "$root/packaging/relay.toml" "$src/relay.toml"
install -m 0755 "$bin/emnify-edge" "$bin/emnify-emulator" "$src/staging/usr/bin/"
# `emnify-edge relay` execs it: the relay's HTTP server and TLS stack stay out of the agent's binary.
install -m 0755 "$bin/emnify-edge-relay" "$src/staging/usr/libexec/emnify-edge/"

if [[ -n "${EMNIFY_DEB_VERSION:-}" ]]; then
    maintainer="$(sed -n 's/^Maintainer: //p' "$src/debian/control")"
    {
        printf 'emnify-edge (%s) unstable; urgency=medium\n\n' "$EMNIFY_DEB_VERSION"
        printf '  * Rebuild for the package upgrade test.\n\n'
        printf ' -- %s  %s\n\n' "$maintainer" "$(date -R)"
        cat "$root/packaging/debian/changelog"
    } >"$src/debian/changelog"
fi

# --- 4. Man pages ----------------------------------------------------------------------
# swift-argument-parser's generate-manual tool, built from the checkout SwiftPM already has
# (offline; the GenerateManual plugin would build the tools again in debug mode). It runs
# the binary with --experimental-dump-help and writes one mdoc page per (sub)command.
say "generate-manual"
parser="$scratch/checkouts/swift-argument-parser"
swift build -c release --package-path "$parser" --scratch-path "$scratch/generate-manual" --product generate-manual
generate_manual="$(swift build -c release --package-path "$parser" --scratch-path "$scratch/generate-manual" --show-bin-path)/generate-manual"
# The changelog's date, so that a rebuild gives the same pages.
page_date="$(date -u -d "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Date)" +%F)"
for tool in emnify-edge emnify-emulator; do
    "$generate_manual" "$src/staging/usr/bin/$tool" --multi-page --date "$page_date" \
        --authors "emnify-edge maintainers" --output-directory "$src/staging/man"
done
# Debian names subcommand pages like git's: emnify-edge-config-check(1) for "emnify-edge
# config check" (generate-manual writes emnify-edge.config.check.1, whose NAME man-db's
# whatis parser cannot read). The page for argument-parser's built-in "help" is dropped.
man="$src/staging/man"
rm -f "$man"/*.help.1
sed -i '/^\.Xr [a-z-]*\.help 1/d' "$man"/*.1
for page in "$man"/*.*.1; do
    dotted="$(basename "$page" .1)"       # emnify-edge.config.check
    words="${dotted//./ }"                # emnify-edge config check
    hyphenated="${dotted//./-}"           # emnify-edge-config-check
    # NAME: the hyphenated name; SYNOPSIS: the command as typed.
    sed -i -e "s/^\.Nm\$/.Nm \"$words\"/" -e "0,/^\.Nm \"$words\"\$/s//.Nm $hyphenated/" \
        -e "s/^\.Dt [A-Z.-]* /.Dt ${hyphenated^^} /" "$page"
    mv "$page" "$man/$hyphenated.1"
done
# Cross references: .Xr emnify-edge.config.check 1 -> .Xr emnify-edge-config-check 1
sed -i -e ':a' -e 's/^\(\.Xr [a-z-]*\)\.\([a-z]\)/\1-\2/' -e 'ta' "$man"/*.1

# --- 5. Packages -----------------------------------------------------------------------
say "dpkg-buildpackage"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
(cd "$src" && dpkg-buildpackage -b -us -uc >"$out/dpkg-buildpackage.log" 2>&1) || {
    tail -40 "$out/dpkg-buildpackage.log" >&2
    exit 1
}
ls -l "$out"/*.deb
