# The Python client suite (tests/python) as a container, run by the `tests`
# service of docker/compose.yaml against the `tiembed` service:
#   docker compose -f docker/compose.yaml --profile test run --rm tests
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libmariadb-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY tests/python/requirements.txt tests/python/constraints.txt /suite/
RUN pip install --no-cache-dir -r /suite/requirements.txt -c /suite/constraints.txt
COPY tests/python /suite
WORKDIR /suite
ENV TIEMBED_HOST=tiembed TIEMBED_PORT=4000
CMD ["python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", "/suite"]
