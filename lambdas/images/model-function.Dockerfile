# Lambda container image for functions that run ONNX models in-process (the features function; the
# RAG function later). Zip bundles cannot hold ONNX Runtime's native library and the model together
# (250 MB unzipped limit), and container images let Lambda load them lazily.
# Build context: the repository root (see .dockerignore). Build args: HANDLER (a file of
# lambdas/handlers without extension) and EMBEDDING_MODEL_ID.
FROM public.ecr.aws/lambda/nodejs:22 AS build
WORKDIR /build
# onnxruntime-node's install script only fetches GPU providers; the CPU library ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY lambdas ./lambdas
ARG HANDLER
RUN test -n "$HANDLER" && npx esbuild "lambdas/handlers/${HANDLER}.ts" --bundle --packages=external \
      --platform=node --format=esm --target=node22 --sourcemap --outfile=dist/handler.mjs
# The model is baked into the image: no download at cold start, and the function needs no internet.
ARG EMBEDDING_MODEL_ID=sentence-transformers/all-MiniLM-L6-v2
RUN TWIN_MODELS_DIR=/build/models TWIN_EMBEDDING_MODEL_ID="$EMBEDDING_MODEL_ID" node bin/twin.js models pull
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
 && if [ "$(uname -m)" = "aarch64" ]; then rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/x64; \
    else rm -rf node_modules/onnxruntime-node/bin/napi-v*/linux/arm64; fi

FROM public.ecr.aws/lambda/nodejs:22
ARG EMBEDDING_MODEL_ID=sentence-transformers/all-MiniLM-L6-v2
COPY --from=build /build/node_modules ${LAMBDA_TASK_ROOT}/node_modules
COPY --from=build /build/dist/ ${LAMBDA_TASK_ROOT}/
COPY --from=build /build/models /opt/models
ENV TWIN_MODELS_DIR=/opt/models \
    TWIN_ALLOW_MODEL_DOWNLOAD=false \
    TWIN_EMBEDDING_MODEL_ID=${EMBEDDING_MODEL_ID} \
    NODE_OPTIONS=--enable-source-maps
CMD ["handler.handler"]
