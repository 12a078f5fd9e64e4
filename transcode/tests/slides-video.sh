#!/usr/bin/env bash
# A lecture-like video whose slides change at known instants, for the tests of thumbnails and
# slide chapters (transcode/tests/thumbnails.rs, tests/uploads.rs):
#
#   slides-video.sh OUT SECONDS OVERLAY [CHANGE…]
#
# 1280×720 at 15 fps with a tone: white slides, each with a title and four lines of text of
# its own (no colons: drawtext would take them for option separators), the next slide from each CHANGE (seconds) on; with OVERLAY=1 a 320×180 moving
# picture (testsrc2) wanders over the lower right like a lecturer's camera. The first
# 2 s are black, as recordings often begin.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 OUT SECONDS OVERLAY [CHANGE…]" >&2; exit 2; }
OUT=$1 SECONDS=$2 OVERLAY=$3
shift 3
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
[ -f "$FONT" ] || { echo "install the Debian package fonts-dejavu-core" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "install the Debian package ffmpeg" >&2; exit 1; }

TOPICS=("Adaptive bitrate ladders" "Aligned keyframes" "Segments and playlists"
        "Tokens on every URI" "Object storage" "Live becomes on demand")
WORDS=(encoder segment playlist keyframe bitrate storage viewer token ladder rung
       master media latency bucket player catalog)

starts=(2 "$@")
filters="drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='gte(t,2)'"
for i in "${!starts[@]}"; do
  from=${starts[$i]}
  to=${starts[$((i + 1))]:-$SECONDS}
  on="enable='gte(t,$from)*lt(t,$to)'"
  title="Slide $((i + 1)) - ${TOPICS[$((i % ${#TOPICS[@]}))]}"
  filters+=",drawtext=fontfile=$FONT:text='$title':fontsize=64:x=80:y=60:fontcolor=0x102040:$on"
  for line in 0 1 2 3; do
    text="-"
    for w in $(seq 0 $(( (i * 5 + line * 3) % 6 + 2 ))); do
      text+=" ${WORDS[$(( (i * 7 + line * 3 + w * 5) % ${#WORDS[@]} ))]}"
    done
    filters+=",drawtext=fontfile=$FONT:text='$text':fontsize=44:x=$(( 100 + (i * 37 + line * 23) % 120 )):y=$(( 200 + line * 90 )):fontcolor=black:$on"
  done
done

inputs=(-f lavfi -i "color=c=black:s=1280x720:r=15:d=$SECONDS"
        -f lavfi -i "sine=frequency=330:sample_rate=48000:d=$SECONDS")
if [ "$OVERLAY" = 1 ]; then
  inputs+=(-f lavfi -i "testsrc2=s=320x180:r=15:d=$SECONDS")
  graph="[0:v]$filters[slides];[slides][2:v]overlay=x='900+40*sin(t/2)':y='480+30*cos(t/3)'[v]"
else
  graph="[0:v]$filters[v]"
fi
ffmpeg -hide_banner -loglevel error -nostdin -y "${inputs[@]}" -filter_complex "$graph" \
  -map "[v]" -map 1:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 30 -c:a aac "$OUT"
