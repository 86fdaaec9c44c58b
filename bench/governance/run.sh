#!/usr/bin/env bash
# Hot topics on the competition's 附件3 and reply quality on 附件4; writes the JSON next to
# RESULTS.md. Run from the repo root: bash bench/governance/run.sh
set -euo pipefail
DATA=${DATA:-../shared/data/teddycup2020_c}
OUT=bench/governance
.venv/bin/jiesu hotspots --input "$DATA/fujian3_full_4326_likes.csv" \
  --text-column 留言主题 --text-column 留言详情 --time-column 留言时间 --id-column 留言编号 \
  --citizen-column 留言用户 --support-column 点赞数 --against-column 反对数 \
  --top 10 --format json --out "$OUT/hot_topics_fujian3.json"
.venv/bin/jiesu governance reply-quality --input "$DATA/fujian4_full_2816_replies.csv" \
  --request-column 留言主题 --request-column 留言详情 --reply-column 答复意见 \
  --id-column 留言编号 --request-time-column 留言时间 --reply-time-column 答复时间 \
  --format csv --out "$OUT/reply_quality_fujian4.csv"
