# Shared helpers for the bench/ scripts (sourced, not run).
# Starts a private nginx (Debian nginx-light) on 127.0.0.1 that answers every
# request with `200 Pong!` (or serves NGINX_LOCATIONS), and stops exactly the PID it
# started.

# free_port: prints a TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# nginx_start DIR PORT CPU WORKER_CONNECTIONS [WORKERS]
# Writes DIR/nginx.conf, starts nginx pinned to CPU (master and its WORKERS workers,
# default one; several share the port with reuseport, each under the open-files
# limit), waits until it answers, and sets NGINX_PID (the master) and
# NGINX_WORKER_PID (the first worker). NGINX_LOCATIONS, when set, is the server
# block's locations instead of the one `location /` that answers `Pong!`.
# With NGINX_TLS_PORT set, the same server also listens there with TLS 1.2 and 1.3
# (nginx 1.22's default stops at 1.2), using DIR/server.pem and DIR/server.key (see
# tls_certificates).
nginx_start() {
    local dir=$1 port=$2 cpu=$3 wconns=$4 workers=${5:-1} reuse= tls_listen=
    [ "$workers" -gt 1 ] && reuse=" reuseport"
    if [ -n "${NGINX_TLS_PORT:-}" ]; then
        tls_listen="listen 127.0.0.1:$NGINX_TLS_PORT ssl backlog=16384$reuse;
        ssl_certificate $dir/server.pem;
        ssl_certificate_key $dir/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;"
    fi
    local nginx_bin=${NGINX:-/usr/sbin/nginx}
    local nofile=$((wconns * 2 + 100)) hard
    hard=$(ulimit -Hn)
    local locations=${NGINX_LOCATIONS:-'        location / {
            default_type text/plain;
            return 200 "Pong!";
        }'}
    if [ "$hard" != unlimited ] && [ "$nofile" -gt "$hard" ]; then nofile=$hard; fi
    chmod 755 "$dir"   # the worker runs as nobody when we are root
    cat > "$dir/nginx.conf" <<EOF
worker_processes $workers;
worker_rlimit_nofile $nofile;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections $wconns;
    multi_accept on;
}
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port backlog=16384$reuse;
        $tls_listen
$locations
    }
}
EOF
    taskset -c "$cpu" "$nginx_bin" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        > "$dir/nginx.stdout" 2>&1 &
    NGINX_PID=$!
    local i
    for i in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null; then
            break
        fi
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            echo "nginx failed to start:" >&2
            cat "$dir/nginx.stdout" "$dir/error.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    if [ -f "$dir/nginx.pid" ] && [ "$(cat "$dir/nginx.pid")" != "$NGINX_PID" ]; then
        echo "warning: nginx pid file says $(cat "$dir/nginx.pid"), started $NGINX_PID" >&2
    fi
    NGINX_WORKER_PID=$(pgrep -P "$NGINX_PID" | head -n1)
    if [ -z "$NGINX_WORKER_PID" ]; then
        echo "nginx worker not found" >&2
        return 1
    fi
}

# tls_certificates DIR: a CA (DIR/ca.pem) and a server certificate it signs for
# localhost and 127.0.0.1 (DIR/server.pem, DIR/server.key), P-256, valid two days.
tls_certificates() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=wsgibench bench CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/server.ext" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

# nginx_stop: stops the nginx master we started (by PID only) and waits for it.
nginx_stop() {
    if [ -n "${NGINX_PID:-}" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -QUIT "$NGINX_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$NGINX_PID" 2>/dev/null && kill -KILL "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    NGINX_PID=
}

# proc_cpu_ticks PID: utime+stime of PID in clock ticks (0 if gone).
proc_cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# The generator a script started in the background, by PID (GEN_PID, empty when none),
# then nginx: what an EXIT trap ends. The generator gets Ctrl-C first, so it writes
# what it measured, and SIGKILL a second later if it is still there.
GEN_PID=
stop_generator_and_nginx() {
    if [ -n "$GEN_PID" ] && kill -0 "$GEN_PID" 2>/dev/null; then
        kill -INT "$GEN_PID" 2>/dev/null; sleep 1; kill -KILL "$GEN_PID" 2>/dev/null
    fi
    nginx_stop
}
