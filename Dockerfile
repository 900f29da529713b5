# One image for the API and the workers; CPU build of torch installed first.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends poppler-utils libgl1 \
        libglib2.0-0 curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY docvlm ./docvlm
COPY schemas ./schemas
COPY workers ./workers
RUN pip install --no-cache-dir .
ENV DOCVLM_RESULT_DIR=/data/results
