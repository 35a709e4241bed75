# Lambda container image for the functions that do not fit a zip bundle: those that run ONNX models
# in-process (features, later RAG: ONNX Runtime plus the model exceed the 250 MB unzipped limit) and
# the crawler (headless Chromium and git). Container images also let Lambda load them lazily.
# Build context: the repository root (see .dockerignore). Build args:
#   HANDLER             a file of lambdas/handlers, without extension (required)
#   EMBEDDING_MODEL_ID  the model to bake in; empty for functions that run no model
#   RERANK_MODEL_ID     the cross-encoder to bake in as well (the RAG function); empty for none
#   RERANK_PRECISION    its precision, fp32 or int8 (the int8 file for this CPU); empty for the default
#   SYSTEM_PACKAGES     Amazon Linux packages the function needs (git for the crawler)
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
RUN test -n "$HANDLER" && npx tsx lambdas/images/bundle-handler.ts "$HANDLER" dist
# The models are baked into the image: no download at cold start, and the function needs no internet.
ARG EMBEDDING_MODEL_ID=""
ARG RERANK_MODEL_ID=""
ARG RERANK_PRECISION=""
RUN mkdir -p /build/models && if [ -n "$EMBEDDING_MODEL_ID" ]; then \
      env TWIN_MODELS_DIR=/build/models TWIN_EMBEDDING_MODEL_ID="$EMBEDDING_MODEL_ID" \
        ${RERANK_MODEL_ID:+TWIN_RERANK_MODEL_ID=$RERANK_MODEL_ID} \
        ${RERANK_PRECISION:+TWIN_RERANK_PRECISION=$RERANK_PRECISION} \
        node bin/twin.js models pull $([ -n "$RERANK_MODEL_ID" ] || echo --embedding-only); fi
RUN npm prune --omit=dev --no-audit --no-fund && sh lambdas/images/prune-native.sh node_modules

FROM public.ecr.aws/lambda/nodejs:22
ARG SYSTEM_PACKAGES=""
RUN if [ -n "$SYSTEM_PACKAGES" ]; then dnf install -y $SYSTEM_PACKAGES && dnf clean all; fi
ARG EMBEDDING_MODEL_ID=
COPY --from=build /build/node_modules ${LAMBDA_TASK_ROOT}/node_modules
COPY --from=build /build/dist/ ${LAMBDA_TASK_ROOT}/
COPY --from=build /build/models /opt/models
ENV TWIN_MODELS_DIR=/opt/models \
    TWIN_ALLOW_MODEL_DOWNLOAD=false \
    NODE_OPTIONS=--enable-source-maps
CMD ["handler.handler"]
