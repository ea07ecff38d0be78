#!/bin/sh
# embed.sh - turn the numbered SQL migrations into a C array (lb_schema.h).
# Usage: sh schema/embed.sh schema/device/001_x.sql ... > lb_schema_data.c
set -eu
echo '/* generated from the SQL files of schema/device by schema/embed.sh; do not edit */'
echo '#include "lb_schema.h"'
echo 'const lb_migration lb_schema_device[] = {'
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
