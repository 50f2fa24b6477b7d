#!/usr/bin/env bash
# Peer 1: what a gateway maker writes first — a loop around curl, jq and mosquitto_pub.
# Written the way a careful one would: the JWT is kept between polls and renewed on 401,
# only events newer than the last one published go out, in id order, one mosquitto_pub
# connection per batch. Each curl call is a new TLS connection; that is curl in a loop.
# Environment: API_URL ENDPOINT_ID CA_FILE EMNIFY_APPLICATION_TOKEN BROKER_PORT TOPIC INTERVAL [POLLS]
set -u
jwt=""
last_id=0
polls=0

authenticate() {
    jwt=$(jq -n --arg t "$EMNIFY_APPLICATION_TOKEN" '{application_token: $t}' |
        curl -sS --cacert "$CA_FILE" -H 'Content-Type: application/json' --data @- \
            "$API_URL/api/v1/authenticate" | jq -r '.auth_token // empty')
}

while [ -z "${POLLS:-}" ] || [ "$polls" -lt "$POLLS" ]; do
    [ -n "$jwt" ] || authenticate
    response=$(curl -sS --cacert "$CA_FILE" -H @<(printf 'Authorization: Bearer %s\n' "$jwt") \
        -w '\n%{http_code}' "$API_URL/api/v1/endpoint/$ENDPOINT_ID/event?per_page=1000")
    status=${response##*$'\n'}
    body=${response%$'\n'*}
    if [ "$status" = 401 ]; then
        jwt=""
        continue
    fi
    if [ "$status" = 200 ]; then
        fresh=$(printf '%s' "$body" | jq -c --argjson last "$last_id" '[.[] | select(.id > $last)] | sort_by(.id) | .[]')
        if [ -n "$fresh" ]; then
            printf '%s\n' "$fresh" | mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$TOPIC" -l &&
                last_id=$(printf '%s\n' "$fresh" | tail -n 1 | jq '.id')
        fi
    fi
    polls=$((polls + 1))
    sleep "$INTERVAL"
done
