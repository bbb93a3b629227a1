#!/usr/bin/env bash
# Benchmark the list pages against a signed-in page that queries only lookups by
# key (a plain member's home page): gunicorn (2 workers) on a fresh SQLite
# database with 50,000 demo staff in 40 subject groups, measured with wrk.
# docs/performance.md explains the figures.
#
#   bash bench/run.sh
#   BENCH_DATABASE=postgres bash bench/run.sh
#
# Then the "mixed" workload: BENCH_MIXED addresses (3,000) drawn at random over
# pages, sort orders, statuses, groups and searches (bench/mixed_urls.py), asked
# in turn (bench/mixed.lua), so that nearly every request is a new address; with
# the list cache as configured and, from a second server, switched off. Last,
# the CSV export of every member, once: time to its first byte and in all.
#
# Knobs: BENCH_STAFF, BENCH_GROUPS, BENCH_DURATION (wrk's -d), BENCH_THREADS,
# BENCH_CONNECTIONS, BENCH_PORT, BENCH_MIXED, BENCH_DATABASE (sqlite, or
# postgres: a fresh database schoolstaff_bench_<random> on the server at
# BENCH_POSTGRES, postgres://postgres@127.0.0.1:5432, dropped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

STAFF=${BENCH_STAFF:-50000}
GROUPS_=${BENCH_GROUPS:-40}
DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
MIXED=${BENCH_MIXED:-3000}
DATABASE=${BENCH_DATABASE:-sqlite}
POSTGRES=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
PY=.venv/bin/python
if [ "$DATABASE" != sqlite ] && [ "$DATABASE" != postgres ]; then
    echo "BENCH_DATABASE must be sqlite or postgres, not $DATABASE." >&2
    exit 1
fi

make --no-print-directory --quiet install
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else
        echo "wrk is missing: sudo apt-get install wrk" >&2
        exit 1
    fi
fi

WORK=$(mktemp -d /tmp/schoolstaff-bench.XXXXXX)
GUNICORN_PID=
UNCACHED_PID=
PG_DATABASE=
stop() {
    for pid in $GUNICORN_PID $UNCACHED_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$PG_DATABASE" ]; then
        psql -q "$POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)" || true
    fi
    rm -rf "$WORK"
}
trap stop EXIT

if [ "$DATABASE" = postgres ]; then
    PG_DATABASE=schoolstaff_bench_$($PY -c 'import secrets; print(secrets.token_hex(4))')
    psql -q -v ON_ERROR_STOP=1 "$POSTGRES/postgres" -c "CREATE DATABASE $PG_DATABASE"
    export DATABASE_URL=$POSTGRES/$PG_DATABASE
else
    export DATABASE_URL="sqlite:///$WORK/db.sqlite3"
fi
# Production settings, over plain HTTP on the loopback only.
export DJANGO_DEBUG=0 DJANGO_INSECURE_HTTP=1 DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_EMAIL_BACKEND=console
DJANGO_SECRET_KEY=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
# Warnings only: the audit trail logs a line for each of the 50,000 demo staff.
export DJANGO_LOG_LEVEL=WARNING
# Long enough that the session cannot end during the run.
export DJANGO_SESSION_IDLE_MINUTES=30
# The benchmark signs in by password with curl; the demo manager has staff
# status, and administrators are otherwise asked for a second factor.
export DJANGO_TWO_FACTOR_REQUIRED=none
free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${BENCH_PORT:-$(free_port)}
BASE=http://127.0.0.1:$PORT
# The same site with the list cache switched off, for the mixed workload.
UNCACHED_PORT=$(free_port)
UNCACHED_BASE=http://127.0.0.1:$UNCACHED_PORT

echo "Preparing $STAFF staff in $GROUPS_ groups in ${PG_DATABASE:-$WORK} ..."
$PY manage.py collectstatic --noinput --verbosity 0
$PY manage.py migrate --noinput --verbosity 0
# The demo manager, a Staff manager, is the signed-in user of the list pages:
# they then render every row's Edit button, at their heaviest. The demo member,
# with no permissions, is the signed-in user of the ceiling.
SEED_OUTPUT=$($PY manage.py seed_demo --staff "$STAFF" --groups "$GROUPS_" --seed 1 --manager --member)
echo "$SEED_OUTPUT"
login_of() {  # The email, then the password, that seed_demo printed for its line $1.
    sed -n "s/^$1.*sign in as \(\S*\) with the password \(\S*\)$/\1 \2/p" <<<"$SEED_OUTPUT"
}
read -r EMAIL PASSWORD < <(login_of "Demo manager")
read -r MEMBER_EMAIL MEMBER_PASSWORD < <(login_of "Demo member")
GROUP_ID=$($PY manage.py shell --verbosity 0 --command \
    'from subjects.models import SubjectGroup; print(SubjectGroup.objects.get(name="Mathematics").pk)')

NAMES=("ceiling: home" "staff, first page" "staff search" "staff page 1000" "staff group filter (Mathematics)" "subject groups")
URLS=("/" "/staff/" "/staff/?q=smith" "/staff/?page=1000" "/staff/?group=$GROUP_ID" "/subjects/")

echo "Counting SQL queries per page ..."
# The ceiling is the member's home page, and must query nothing but four lookups
# by key: the session, the user, and the user's own and their groups'
# permissions (the page asks whether they may change staff; the list pages ask
# the same for their cache key). A manager's home page sums the staff tally too,
# so it is no ceiling.
CEILING_SQL=(
    'FROM "django_session" WHERE'
    'FROM "accounts_staff" WHERE "accounts_staff"."id" = '
    'WHERE "accounts_staff_user_permissions"."staff_id" = '
    'INNER JOIN "accounts_staff_groups" U1 ON (U0."id" = U1."group_id") WHERE U1."staff_id" = '
)
$PY -m bench.sql_queries "$MEMBER_EMAIL" "${URLS[0]}" --sql >"$WORK/ceiling.txt"
QUERIES=("$(head -1 "$WORK/ceiling.txt" | cut -d' ' -f1)")
for sql in "${CEILING_SQL[@]}"; do
    if [ "${QUERIES[0]}" != ${#CEILING_SQL[@]} ] || ! grep -qF "$sql" "$WORK/ceiling.txt"; then
        echo "The member's home page runs other queries than the ${#CEILING_SQL[@]} expected:" >&2
        cat "$WORK/ceiling.txt" >&2
        exit 1
    fi
done
$PY -m bench.sql_queries "$EMAIL" "${URLS[@]:1}" >"$WORK/queries.txt"
DJANGO_LIST_CACHE_SECONDS=0 $PY -m bench.sql_queries "$EMAIL" "${URLS[@]:1}" \
    >"$WORK/uncached-queries.txt"
mapfile -t -O 1 QUERIES < <(cut -d' ' -f1 "$WORK/queries.txt")
if [ "$DATABASE" = postgres ]; then
    # Fresh statistics for the planner, and the staff tally's rows that the first
    # page compacted cleared away, as autovacuum would in time.
    psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"
fi

echo "Drawing $MIXED addresses for the mixed workload ..."
$PY -m bench.mixed_urls "$MIXED" >"$WORK/mixed.txt"

$PY -m gunicorn schoolstaff.wsgi:application --workers 2 --bind "127.0.0.1:$PORT" \
    --error-logfile "$WORK/gunicorn.log" &
GUNICORN_PID=$!
DJANGO_LIST_CACHE_SECONDS=0 $PY -m gunicorn schoolstaff.wsgi:application --workers 2 \
    --bind "127.0.0.1:$UNCACHED_PORT" --error-logfile "$WORK/gunicorn-uncached.log" &
UNCACHED_PID=$!
for base in "$BASE" "$UNCACHED_BASE"; do
    for _ in $(seq 50); do
        curl -s -o /dev/null "$base/accounts/login/" && break
        sleep 0.2
    done
    if ! curl -s -o /dev/null "$base/accounts/login/"; then
        echo "gunicorn did not start:" >&2
        cat "$WORK"/gunicorn*.log >&2
        exit 1
    fi
done

# Sign in as $1 with the password $2 through the login form, as a browser does
# (CSRF cookie, then token); print the session's cookie header.
sign_in() {
    local jar=$WORK/cookies-$1.txt token status
    curl -s -c "$jar" -b "$jar" -o "$WORK/login.html" "$BASE/accounts/login/"
    token=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$WORK/login.html" | head -1)
    status=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "username=$1" \
        --data-urlencode "password=$2" "$BASE/accounts/login/")
    if [ "$status" != "302 $BASE/" ]; then
        echo "Signing in as $1 failed: $status" >&2
        exit 1
    fi
    echo "Cookie: sessionid=$(awk '$6 == "sessionid" {print $7}' "$jar")"
}
COOKIE=$(sign_in "$EMAIL" "$PASSWORD")
CEILING_COOKIE=$(sign_in "$MEMBER_EMAIL" "$MEMBER_PASSWORD")

# A page that redirects (to the login page, say) would be timed as a success.
expect_200() {  # Path, server (BASE), cookie (COOKIE).
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "${3:-$COOKIE}" "${2:-$BASE}$1")
    if [ "$status" != 200 ]; then
        echo "$1 answered $status, not 200." >&2
        exit 1
    fi
}

# Requests/s, p50 and p99 (in ms) of one page under load, with the cookie $2,
# from the server at $3 (BASE).
measure() {
    local base=${3:-$BASE}
    expect_200 "$1" "$base" "$2"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$2" "$base$1" >/dev/null  # Warm up.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$2" "$base$1" \
        >"$WORK/wrk.txt"
    summarize "$1"
}

# The same for the mixed workload's addresses in turn, from the server at $1. The
# warm-up asks for the ceiling only, so that no address is asked for twice.
measure_mixed() {
    while read -r url; do expect_200 "$url" "$1"; done < <(head -20 "$WORK/mixed.txt")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$CEILING_COOKIE" "$1${URLS[0]}" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$COOKIE" \
        -s bench/mixed.lua "$1/" -- "$WORK/mixed.txt" >"$WORK/wrk.txt"
    summarize "mixed workload at $1"
}

summarize() {
    if grep -q "Non-2xx" "$WORK/wrk.txt"; then
        echo "$1: some responses were errors:" >&2
        cat "$WORK/wrk.txt" >&2
        exit 1
    fi
    awk 'function ms(t) { return t ~ /us$/ ? t / 1000 : t ~ /ms$/ ? t + 0 : t ~ /s$/ ? t * 1000 : t * 60000 }
        /^Requests\/sec:/ {rps = $2} $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
        END {printf "%.0f %.1f %.1f\n", rps, p50, p99}' "$WORK/wrk.txt"
}

# The machine is noisy: the ceiling is measured again just before each page,
# and each page's ratio is to that neighbouring measurement.
echo "Measuring each page and the ceiling before it, ${DURATION} each ($THREADS threads, $CONNECTIONS connections) ..."
CEILINGS=()
RESULTS=()
for url in "${URLS[@]:1}"; do
    CEILINGS+=("$(measure "${URLS[0]}" "$CEILING_COOKIE")")
    RESULTS+=("$(measure "$url" "$COOKIE")")
done
# The same addresses again and again from the server without the list cache:
# what the cache saves where it serves best.
for i in "${!URLS[@]}"; do
    [ "$i" = 0 ] && continue
    CEILINGS+=("$(measure "${URLS[0]}" "$CEILING_COOKIE")")
    RESULTS+=("$(measure "${URLS[$i]}" "$COOKIE" "$UNCACHED_BASE")")
    NAMES+=("${NAMES[$i]}, list cache off")
    QUERIES+=("$(sed -n "${i}p" "$WORK/uncached-queries.txt" | cut -d' ' -f1)")
done
URLS+=("${URLS[@]:1}")
CACHE_SECONDS=$($PY manage.py shell --verbosity 0 --command \
    'from django.conf import settings; print(settings.LIST_CACHE_SECONDS)')
NAMES+=("mixed workload, list cache ${CACHE_SECONDS}s" "mixed workload, list cache off")
URLS+=("$MIXED addresses" "$MIXED addresses")
QUERIES+=("–" "–")
# One pass over the mixed addresses first, not counted, from the server without the
# cache: both counted passes then find in the database's memory what they read,
# rather than the first finding it cold and the second warm (the staff table at
# 500,000 outgrows PostgreSQL's buffers). The list cache is not filled: the other
# server keeps its own.
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "$COOKIE" \
    -s bench/mixed.lua "$UNCACHED_BASE/" -- "$WORK/mixed.txt" >"$WORK/wrk.txt"
summarize "mixed workload, not counted" >/dev/null
CEILINGS+=("$(measure "${URLS[0]}" "$CEILING_COOKIE")")
RESULTS+=("$(measure_mixed "$BASE")")
CEILINGS+=("$(measure "${URLS[0]}" "$CEILING_COOKIE")")
RESULTS+=("$(measure_mixed "$UNCACHED_BASE")")
expect_200 /staff/  # Both still signed in.
expect_200 / "$BASE" "$CEILING_COOKIE"

# The CSV export of every member, once, as the manager: it streams from the
# first row, so the time to its first byte is apart from the whole.
EXPORT=/staff/export.csv?status=all
read -r status first_byte total size < <(curl -s -o "$WORK/export.csv" -H "$COOKIE" \
    -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}\n' "$BASE$EXPORT")
if [ "$status" != 200 ] || [ "$(wc -l <"$WORK/export.csv")" -le "$STAFF" ]; then
    echo "$EXPORT answered $status with $(wc -l <"$WORK/export.csv") lines." >&2
    exit 1
fi

row() {
    printf '| %s | `%s` | %s | %s | %s | %s | %s |\n' "$@"
}
echo
echo "| Page | URL | SQL queries | Requests/s | p50 (ms) | p99 (ms) | Throughput / ceiling |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
# shellcheck disable=SC2046 # The mean's three numbers are three columns.
row "${NAMES[0]}" "${URLS[0]}" "${QUERIES[0]}" $(printf '%s\n' "${CEILINGS[@]}" |
    awk '{r += $1; a += $2; b += $3} END {printf "%.0f %.1f %.1f", r / NR, a / NR, b / NR}') \
    "1.00 (mean of ${#CEILINGS[@]} runs)"
for i in "${!RESULTS[@]}"; do
    read -r rps p50 p99 <<<"${RESULTS[$i]}"
    ratio=$(awk -v a="$rps" -v b="${CEILINGS[$i]%% *}" 'BEGIN {printf "%.2f", a / b}')
    row "${NAMES[$i + 1]}" "${URLS[$i + 1]}" "${QUERIES[$i + 1]}" "$rps" "$p50" "$p99" "$ratio"
done
echo
awk -v url="$EXPORT" -v rows="$(($(wc -l <"$WORK/export.csv") - 1))" -v a="$first_byte" \
    -v b="$total" -v size="$size" 'BEGIN {
        printf "export (`%s`, %d rows): first byte %.2f s, total %.2f s, %.1f MB\n", url, rows, a, b, size / 1e6
    }'
