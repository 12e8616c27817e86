# The tree keeps its architecture: every include names its room, a room
# includes only the rooms it is allowed to build on (the tracks never reach
# PostgreSQL or the rules; the rules know no sockets, SQL or files; the CLI
# takes from the rules only pure modules, like rules/identity.h, and reads
# the store through the store room's readers, like store/replay.h), unit
# tests live in the folder of the room they test, and no folder holds more
# than about a fifth of the C code. Reads the sources only.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
passed=0; failed=0
ok()   { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

# What each room may include, itself aside
declare -A ALLOWED=(
    [base]=""
    [proto]="base"
    [journal]="base"
    [rules]="proto base"
    [store]="rules proto base"
    [track]="journal proto base"
    [coordinator]="store rules proto base"
    [cli]="store rules proto base"  # rules: the pure modules validate changes; store: the what-if replays its touchpoints
)
room_dir() { if [ "$1" = proto ]; then echo proto; else echo "services/$1"; fi; }

for room in "${!ALLOWED[@]}"; do
    dir=$(room_dir "$room")
    bad=""
    while IFS= read -r line; do
        file=${line%%:*}
        inc=$(echo "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
        case "$inc" in
            */*) target=${inc%%/*} ;;
            *) bad="$bad $file:$inc(no room)"; continue ;;
        esac
        [ "$target" = "$room" ] && continue
        case " ${ALLOWED[$room]} " in
            *" $target "*) ;;
            *) bad="$bad $file:$inc" ;;
        esac
    done < <(grep -H '^#include "' "$dir"/*.[ch] 2>/dev/null)
    if [ -z "$bad" ]; then ok "$room includes only its own room and: ${ALLOWED[$room]:-nothing}"
    else fail "$room includes what it must not:$bad"; fi
    case "$room" in
        rules|journal|proto)
            libs=$(grep -lE '#include <(czmq|zmq|libpq-fe)\.h>' "$dir"/*.[ch] 2>/dev/null | tr '\n' ' ')
            if [ -z "$libs" ]; then ok "$room is free of sockets and SQL"
            else fail "$room includes sockets or SQL: $libs"; fi ;;
    esac
done

# Unit tests mirror the rooms
strays=""
for t in tests/unit/*/test_*.c; do
    room=$(basename "$(dirname "$t")")
    [ -n "${ALLOWED[$room]+x}" ] || { strays="$strays $t"; continue; }
    grep -q "#include \"$room/" "$t" || strays="$strays $t(tests nothing of $room)"
done
if [ -z "$strays" ]; then ok "every unit test sits in the folder of the room it tests"
else fail "unit tests outside their room:$strays"; fi

# No folder of C code above ~20% of the lines (issue 13)
total=$(find proto services tests bench -name '*.[ch]' -print0 | xargs -0 cat | wc -l)
largest=$(find proto services tests bench -name '*.[ch]' -printf '%h\n' | sort -u | while read -r d; do
    echo "$(cat "$d"/*.[ch] | wc -l) $d"; done | sort -n | tail -n 1)
lines=${largest%% *}
if [ $((lines * 100)) -le $((total * 22)) ]; then
    ok "largest folder of C code: ${largest#* } with $lines of $total lines"
else
    fail "largest folder of C code: ${largest#* } with $lines of $total lines (over ~20%)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
