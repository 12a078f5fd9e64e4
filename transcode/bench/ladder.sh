#!/usr/bin/env bash
# Lectern's ladder benchmark: the same lecture-like 1080p30 input and the same ladder (720p,
# 480p, 360p at x264 veryfast, 2 s GOP, AAC) through Lectern's file transcoder and through
# ffmpeg's single-process ladder (../../shared/bench/ffmpeg-ladder.sh), one after the other in
# this script, on this machine. Prints wall and CPU time of both, their ratio, and each rung's
# PSNR against the source.
#
#   transcode/bench/ladder.sh [WORKDIR]       (LECTERN_BENCH_SECONDS=60 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHOR=${LECTERN_BENCH_ANCHOR:-$ROOT/../shared/bench/ffmpeg-ladder.sh}
WORK=${1:-$(mktemp -d)}
DURATION=${LECTERN_BENCH_SECONDS:-60}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
mkdir -p "$WORK"
[ -x "$ANCHOR" ] || [ -f "$ANCHOR" ] || { echo "the ffmpeg anchor $ANCHOR is missing" >&2; exit 1; }
[ -f "$FONT" ] || { echo "install fonts-dejavu-core (./lectern setup does)" >&2; exit 1; }

echo "Building lectern-transcode (release)…" >&2
cargo build --release --quiet -p lectern-transcode --manifest-path "$ROOT/Cargo.toml"
LECTERN=$ROOT/target/release/lectern-transcode

INPUT=$WORK/lecture-1080p30-${DURATION}s.mp4
if [ ! -f "$INPUT" ]; then
  echo "Making a ${DURATION}s lecture-like input: a white slide whose text changes every 10 s, a small moving picture, speech-like audio…" >&2
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "color=c=white:s=1920x1080:r=30:d=$DURATION" \
    -f lavfi -i "testsrc2=s=480x270:r=30:d=$DURATION" \
    -f lavfi -i "anoisesrc=c=pink:r=48000:d=$DURATION:a=0.3,tremolo=f=4:d=0.9" \
    -filter_complex "[0:v]drawtext=fontfile=$FONT:text='Slide %{eif\:trunc(t/10)+1\:d}':fontsize=110:x=120:y=100:fontcolor=black,drawtext=fontfile=$FONT:text='Adaptive bitrate ladders and aligned keyframes':fontsize=54:x=120:y=300:fontcolor=0x203060,drawtext=fontfile=$FONT:text='%{pts\:hms}':fontsize=40:x=120:y=960:fontcolor=gray[slide];[slide][1:v]overlay=x='1300+150*sin(t/2)':y='700+60*cos(t/3)'[v]" \
    -map "[v]" -map 2:a -c:v libx264 -preset medium -crf 16 -g 60 -pix_fmt yuv420p -c:a aac -b:a 192k "$INPUT"
fi

RUNGS=("720p 1280 720 2800" "480p 854 480 1400" "360p 640 360 800")

measure() { # measure NAME COMMAND…: runs it under GNU time, prints "wall cpu"
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$WORK/$name.time" "$@" >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; exit 1; }
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$WORK/$name.time"
}

# Each rendition is scaled back up to the source's size and compared with the source itself:
# comparing with a source scaled down by ffmpeg's own scaler would favour ffmpeg.
psnr() { # psnr RENDITION_PLAYLIST: average PSNR (dB) against the source
  ffmpeg -hide_banner -nostdin -i "$1" -i "$INPUT" -lavfi \
    "[0:v]setpts=PTS-STARTPTS,scale=1920:1080:flags=bicubic[d];[1:v]setpts=PTS-STARTPTS[r];[d][r]psnr" \
    -f null - 2>&1 | sed -n 's/.*PSNR.* average:\([0-9.inf]*\).*/\1/p' | tail -1
}

echo "Running Lectern…" >&2
rm -rf "$WORK/lectern"
lectern_args=()
for r in "${RUNGS[@]}"; do set -- $r; lectern_args+=(--rung "$1=$2x$3@$4"); done
read -r l_wall l_cpu < <(measure lectern "$LECTERN" file "$INPUT" --out "$WORK/lectern" --name bench "${lectern_args[@]}")
echo "Running ffmpeg (anchor)…" >&2
read -r f_wall f_cpu < <(measure ffmpeg sh "$ANCHOR" "$INPUT" "$WORK/ffmpeg")

printf '\nLadder benchmark: %s s of 1080p30 → 720p/480p/360p, x264 veryfast, on %s cores\n' "$DURATION" "$(nproc)"
printf '%-10s %10s %10s\n' "" "wall (s)" "CPU (s)"
printf '%-10s %10s %10s\n' "Lectern" "$l_wall" "$l_cpu" "ffmpeg" "$f_wall" "$f_cpu"
awk -v lw="$l_wall" -v fw="$f_wall" -v lc="$l_cpu" -v fc="$f_cpu" \
  'BEGIN { printf "ratio      %10.2f %10.2f   (Lectern / ffmpeg; target wall <= 0.80)\n", lw / fw, lc / fc }'
printf '\n%-6s %14s %14s %10s\n' "rung" "Lectern PSNR" "ffmpeg PSNR" "diff (dB)"
i=0
for r in "${RUNGS[@]}"; do
  set -- $r
  lp=$(psnr "$WORK/lectern/lectures/bench/v1/main/$1/index.m3u8")
  fp=$(psnr "$WORK/ffmpeg/v$i/index.m3u8")
  awk -v n="$1" -v l="$lp" -v f="$fp" 'BEGIN { printf "%-6s %14.2f %14.2f %+10.2f\n", n, l, f, l - f }'
  i=$((i + 1))
done
echo "(target: Lectern no more than 0.3 dB below ffmpeg; work files in $WORK)"
