# Berth's image: the API replicas, the controller, and the Ray head and workers all run it, so
# Python, Ray and Berth are the same everywhere (Ray requires it of a cluster).
FROM python:3.11-slim-bookworm

# bubblewrap: the pod sandbox (berth/workers/node/sandbox.py); without it pods run unsandboxed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/berth
COPY pyproject.toml README.md ./
COPY berth ./berth
# ray[default]: the dashboard agent, which exports Ray's own metrics for Prometheus.
RUN pip install --no-cache-dir . "ray[default]" && berth --help >/dev/null

# The shared data root (compose.yaml mounts the berth-data volume here) and the API port.
ENV BERTH_DATA_DIR=/data \
    BERTH_NODE_ROOT=/data/nodes \
    BERTH_PORT=8080
EXPOSE 8080
CMD ["berth", "up"]
