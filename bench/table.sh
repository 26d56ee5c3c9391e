#!/bin/bash
# Prints the pipeline benchmark's table from the results run.sh wrote: medians of wall time
# from hyperfine's JSON, medians of peak memory from /usr/bin/time, and ours / CLI ratios.
set -euo pipefail
results=${1:?usage: table.sh RESULTS_DIR}

# median_time CASE NAME prints the median wall time in seconds of a command in a case.
median_time() {
    jq -r --arg name "$2" '.results[] | select(.command == $name) | .median' \
        "$results/$1.json"
}

# spread CASE NAME prints the fastest and slowest run.
spread() {
    jq -r --arg name "$2" \
        '.results[] | select(.command == $name) | "\(.min)–\(.max)"' "$results/$1.json" |
        awk -F'–' '{ printf "%.2f–%.2f", $1, $2 }'
}

# median prints the median of the numbers on its input, one a line.
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median_rss CASE NAME prints the median peak memory in MB.
median_rss() {
    local file=$results/rss-$1-$2.txt
    [[ -f $file ]] || { echo "-"; return; }
    grep -E '^[0-9]+$' "$file" | awk '{ print $1 / 1024 }' | median |
        awk '{ printf "%.0f", $1 }'
}

row() {
    local case=$1 label=$2 ours=$3 cli=$4 t_ours t_cli
    t_ours=$(median_time "$case" "$ours")
    t_cli=$(median_time "$case" "$cli")
    printf '| %s | %.3f (%s) | %.3f (%s) | %s | %s | %s |\n' "$label" \
        "$t_ours" "$(spread "$case" "$ours")" "$t_cli" "$(spread "$case" "$cli")" \
        "$(awk -v a="$t_ours" -v b="$t_cli" 'BEGIN { printf "%.2f", a / b }')" \
        "$(median_rss "$case" "$ours")" "$(median_rss "$case" "$cli")"
}

# header COLUMN... prints a table's header row and rule.
header() {
    local column line="|" rule="|"
    for column; do
        line+=" $column |" rule+="---|"
    done
    printf '%s\n%s\n' "$line" "$rule"
}

# slope T P N Q prints (T - P) / (N - Q) in milliseconds, T and P in seconds.
slope() {
    awk -v t="$1" -v p="$2" -v n="$3" -v q="$4" 'BEGIN { printf "%.1f", (t - p) * 1000 / (n - q) }'
}

header case "ours, s (range)" "CLI, s (range)" "ours / CLI" "ours max RSS, MB" \
    "CLI max RSS, MB"
row fetch "cold fetch (\`fetch\` / \`git clone --depth 1\`)" ours-fetch cli-clone
row cold "cold run: fetch, template, build, push (\`push\`)" ours-push cli
row unchanged "nothing changed (\`push\`)" ours-push cli
row unchanged "nothing changed (\`build\`)" ours-build cli
row unchanged "nothing changed (\`go run magefile.go build\`)" gorun-build cli
row unchanged "nothing changed, result file outside the project (\`build\`; diagnosis)" \
    ours-build-result-outside cli
row manager "one manager-only file changed (\`push\`)" ours-push cli
row engine "engine moved by one commit (\`push\`)" ours-push cli

echo
header "images, nothing changed (\`build\`)" "ours, s (range)" \
    "per image over the previous, ms" "max RSS, MB"
previous_n="" previous_t=""
for n in 1 3 10 30; do
    t=$(median_time scale "ours-build-$n")
    step="-"
    [[ -n $previous_n ]] && step=$(slope "$t" "$previous_t" "$n" "$previous_n")
    printf '| %s | %.3f (%s) | %s | %s |\n' "$n" "$t" "$(spread scale "ours-build-$n")" \
        "$step" "$(median_rss scale "ours-build-$n")"
    previous_n=$n previous_t=$t
done

echo
header "images, in-process (\`BenchmarkUpToDate\`)" "median ms per build" \
    "per image over the previous, ms"
previous_n="" previous_t=""
for n in 1 3 10 30; do
    t=$(grep -E "^BenchmarkUpToDate/images=$n(-[0-9]+)? " "$results/uptodate.txt" |
        awk '{ print $3 / 1e9 }' | median)
    step="-"
    [[ -n $previous_n ]] && step=$(slope "$t" "$previous_t" "$n" "$previous_n")
    printf '| %s | %s | %s |\n' "$n" "$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')" "$step"
    previous_n=$n previous_t=$t
done
outside="^BenchmarkUpToDate/images=3,result-outside(-[0-9]+)? "
if grep -qE "$outside" "$results/uptodate.txt"; then
    printf '| 3, result file outside the project (diagnosis) | %.1f | - |\n' \
        "$(grep -E "$outside" "$results/uptodate.txt" | awk '{ print $3 / 1e6 }' | median)"
fi

echo
echo "Load average (1, 5, 15 min) at the start of each case:"
sed 's/^/    /' "$results/load.txt"
