#!/usr/bin/env bash
# Packs what the GPU check needs from this machine beyond .gpukit's Node.js into one file,
# .gpukit/host.tar.xz (a run carries at most 8 paths): the Node-API headers for the addon build,
# the CLI's runtime modules (zod, ws), sharp with its libvips (the training loader decodes images
# with it) and the embedded demo digits. scripts/gpu/check.sh unpacks it. Run from the project
# root after ../shared/gpu/kit.sh and `npm run build:ts`; then carry .gpukit and dist.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
test -f .gpukit/env.sh || { echo "pack.sh: .gpukit/ is missing: run ../shared/gpu/kit.sh first" >&2; exit 1; }
test -d resources/demo-digits/train || { echo "pack.sh: resources/demo-digits is missing: run npm install" >&2; exit 1; }
modules=(node-addon-api node-api-headers zod ws sharp @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 detect-libc semver)
XZ_OPT=-T2 tar -cJf .gpukit/host.tar.xz "${modules[@]/#/node_modules/}" resources/demo-digits
du -h .gpukit/host.tar.xz
