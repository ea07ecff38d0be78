#!/bin/sh
# embed.sh - turn numbered SQL migrations into a C array of lb_migration
# (lb_schema.h), named NAME.
# Usage: sh schema/embed.sh NAME schema/DIR/001_x.sql ... > out.c
set -eu
name=$1
shift
echo "/* generated from numbered SQL migrations by schema/embed.sh; do not edit */"
echo '#include "lb_schema.h"'
echo "const lb_migration $name[] = {"
for f in "$@"; do
    base=$(basename "$f" .sql)
    num=${base%%_*}
    num=$(echo "$num" | sed 's/^0*//')
    printf '    { %s, "%s",\n' "$num" "$base"
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
    printf '    },\n'
done
echo '    { 0, 0, 0 }'
echo '};'
