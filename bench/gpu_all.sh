#!/usr/bin/env bash
# Every GPU benchmark of the project in one run, for a session that is lent a GPU for a few minutes:
# SAM click selection (vit_h), SAM 3 text -> masks and the ViTMatte matte, SAM 3 clicks, SD 1.5 inpainting with
# and without a seg ControlNet, then crop-mode diffusion beside stock diffusers at full resolution.
# Each part has its own time limit, so one that hangs leaves the others their time; logs go to
# $OUT (the device tool's output folder) or /tmp/stencil-gpu.
#
#   bash bench/gpu_all.sh            # about 10 minutes on an H100 or H200
#   bash bench/gpu_all.sh sam3_clicks select   # only the parts named
#
# Missing packages (diffusers, segment-anything, a newer transformers) can be carried as wheels in
# .whl/ (see the device notes); they are installed to /tmp/site first when present.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/stencil-gpu}
ONLY="$*"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 GRADIO_ANALYTICS_ENABLED=False
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, diffusers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'diffusers', diffusers.__version__)" | tee -a "$OUT/gpu.txt"

part() {  # part NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  echo "== $name ($*), limit ${limit}s" | tee "$OUT/$name.log"
  local start=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee -a "$OUT/$name.log"
  echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$OUT/$name.log"
}

part select 100 python3 -m bench.select --device cuda --model vit_h --clicks 30 --large-clicks 10 --embedding-rounds 5
part sam3 100 python3 -m bench.sam3_gpu --gpu
part sam3_clicks 100 python3 -m bench.sam3_gpu --gpu --tracker
part controlnet 170 python3 -m bench.controlnet --gpu
part diffusion_crop 180 python3 -m bench.diffusion_crop --gpu --steps 30
