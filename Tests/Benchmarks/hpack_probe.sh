#!/usr/bin/env bash
# What HPACK makes of the agent's requests: emnify-edge polls through nghttpx (Debian's
# nghttp2-proxy, HTTP/2 over TLS in front, frame debug on) to the emulator (HTTP/1.1 behind,
# --cdn-headers) for a few seconds, then prints every HEADERS frame: its length, the request's
# path, and the fields the client sent never-indexed ("sensitive").
#   Tests/Benchmarks/hpack_probe.sh .build/debug/emnify-edge .build/debug/emnify-emulator [seconds]
# Needs nghttpx, mosquitto and openssl. Everything listens on loopback and is stopped at the end.
set -eu
edge=$1
emulator=$2
seconds=${3:-8}
dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
"$emulator" serve --tls none --history 50 --cdn-headers --token probe-token >"$dir/emulator.out" &
pids+=($!)
for _ in $(seq 300); do grep -qs EMULATOR_READY "$dir/emulator.out" && break; sleep 0.1; done
backend=$(sed -n 's/.*url=http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/emulator.out")
iccid=$(sed -n 's/.* iccid=\([0-9]*\).*/\1/p' "$dir/emulator.out")
front=$(free_port)
broker=$(free_port)
nghttpx --conf=/dev/null --single-thread --no-ocsp --frontend-frame-debug -f"127.0.0.1,$front" \
    -b"127.0.0.1,$backend" "$dir/key.pem" "$dir/cert.pem" 2>"$dir/frames.txt" &
pids+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$broker" >"$dir/mosquitto.conf"
/usr/sbin/mosquitto -c "$dir/mosquitto.conf" 2>/dev/null &
pids+=($!)
mkdir "$dir/state"
cat >"$dir/edge.toml" <<TOML
[api]
url = "https://127.0.0.1:$front"
ca_file = "$dir/cert.pem"
[modem]
source = "static"
iccid = "$iccid"
[agent]
state_dir = "$dir/state"
poll_interval = "1s"
[mqtt]
port = $broker
[log]
level = "warning"
TOML
sleep 1
EMNIFY_APPLICATION_TOKEN=probe-token "$edge" run --config "$dir/edge.toml" >"$dir/edge.log" 2>&1 &
pids+=($!)
sleep "$seconds"
cleanup
pids=()

# nghttpx prints a request's fields before its HEADERS frame, and a response's after it.
awk '
    /recv \(stream_id=[0-9]+(, sensitive)?\) :path:/ { path = $NF }
    /recv \(stream_id=[0-9]+, sensitive\)/ {
        name = $0; sub(/.*sensitive\) /, "", name); sub(/:.*/, "", name); sensitive = sensitive " " name
    }
    /recv HEADERS frame/ {
        match($0, /length=[0-9]+/); length_ = substr($0, RSTART + 7, RLENGTH - 7)
        sub(/\?.*/, "?…", path)
        printf "request  %5d B  %s%s\n", length_, path, (sensitive ? "  never indexed:" sensitive : "")
        path = ""; sensitive = ""
    }
    /send HEADERS frame/ {
        match($0, /length=[0-9]+/); printf "response %5d B\n", substr($0, RSTART + 7, RLENGTH - 7)
    }
' "$dir/frames.txt"
echo "frames: $dir/frames.txt"
