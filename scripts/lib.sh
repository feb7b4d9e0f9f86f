# Shell helpers shared by the scripts (sourced, not run).

# Prints a free TCP port on 127.0.0.1.
rd_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# rd_redis_start DIR: a private redis-server on a free loopback port, data in
# DIR, no persistence. Sets RD_REDIS_PORT and RD_REDIS_PID.
rd_redis_start() {
  local dir=$1
  mkdir -p "$dir"
  RD_REDIS_PORT=$(rd_free_port)
  redis-server --bind 127.0.0.1 --port "$RD_REDIS_PORT" --dir "$dir" --save '' \
    --appendonly no --protected-mode yes --maxmemory-policy noeviction \
    --logfile "$dir/redis.log" --daemonize no &
  RD_REDIS_PID=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$RD_REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start (see $dir/redis.log)" >&2
  return 1
}

rd_redis_stop() {
  [ -n "${RD_REDIS_PID:-}" ] && kill "$RD_REDIS_PID" 2>/dev/null && wait "$RD_REDIS_PID" 2>/dev/null
  RD_REDIS_PID=""
}
