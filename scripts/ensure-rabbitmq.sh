#!/usr/bin/env bash
# Makes a RabbitMQ broker available to the tests and prints the AMQP URI to use (last line of stdout).
# - RABBITMQ_URI already set: use that broker as it is.
# - a Docker engine is available: print nothing; the tests start one with Testcontainers.RabbitMq.
# - otherwise: install Debian's rabbitmq-server if missing and start it bound to loopback only.
set -euo pipefail

if [ -n "${RABBITMQ_URI:-}" ]; then
  echo "$RABBITMQ_URI"
  exit 0
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "[rabbitmq] installing rabbitmq-server" >&2
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi

# Loopback only: AMQP, Erlang distribution and epmd.
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "[rabbitmq] starting the broker" >&2
  rabbitmq-server -detached >&2
fi
for _ in $(seq 1 120); do
  if rabbitmqctl -q await_startup >/dev/null 2>&1; then
    echo "amqp://guest:guest@127.0.0.1:5672/"
    exit 0
  fi
  sleep 1
done
echo "[rabbitmq] the broker did not start within 120 s" >&2
exit 1
