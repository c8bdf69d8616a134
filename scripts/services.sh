#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis servers the tests use are running on loopback
# (127.0.0.1:5432 with trust auth for user postgres, 127.0.0.1:6379), starting whichever is down.
# `make test` runs this first, so CI needs nothing else.
set -euo pipefail

listening() {  # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() {  # name port
    for _ in $(seq 1 60); do
        if listening 127.0.0.1 "$2"; then
            return 0
        fi
        sleep 0.5
    done
    echo "services.sh: $1 did not start listening on 127.0.0.1:$2" >&2
    return 1
}

if ! listening 127.0.0.1 5432; then
    echo "services.sh: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
    wait_for PostgreSQL 5432
fi

if ! listening 127.0.0.1 6379; then
    echo "services.sh: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis 6379
fi
