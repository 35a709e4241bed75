#!/bin/sh
# Removes the native binaries that an image's node_modules carries for other platforms (onnxruntime-node
# ships every OS and CPU in one package), and the local generator's, which no function loads. Run by
# function.Dockerfile after `npm prune`, and by the architecture check (test/artifacts/native-architectures.test.ts) on the tree it installs.
#   sh lambdas/images/prune-native.sh NODE_MODULES [arm64|x64]   (default: this machine's CPU)
set -eu
modules="${1:?usage: prune-native.sh NODE_MODULES [arm64|x64]}"
arch="${2:-$(uname -m)}"
case "$arch" in
  aarch64 | arm64) keep=arm64 drop=x64 ;;
  x86_64 | x64 | amd64) keep=x64 drop=arm64 ;;
  *) echo "prune-native.sh: unknown CPU '$arch'" >&2; exit 2 ;;
esac
onnx="$modules/onnxruntime-node/bin"
rm -rf "$onnx"/napi-v*/darwin "$onnx"/napi-v*/win32 "$onnx"/napi-v*/linux/"$drop"
# llama.cpp runs the laptop's local generator only; no function loads it, and its prebuilt binaries
# (CUDA and Vulkan builds among them) are most of a gigabyte.
rm -rf "$modules/node-llama-cpp" "$modules/@node-llama-cpp"
echo "kept the $keep native binaries of $modules" >&2
